using RewardKit.IO;

namespace RewardKit.Inference;

/// <summary>
/// A loaded reward model r(prompt, response) -> scalar, as the scoring paths (CLI, batch jobs, the HTTP service) see it.
/// Implementations are thread-safe for concurrent <see cref="Encode"/> and <see cref="ScoreTokens"/> calls and run in
/// inference mode (no autograd memory).
/// </summary>
public interface IRewardModel : IDisposable
{
    /// <summary>What the model is: its name, content version, normalisation statistics and calibration.</summary>
    RewardModelMetadata Metadata { get; }

    /// <summary>
    /// The exact token ids the model scores for (<paramref name="prompt"/>, <paramref name="response"/>): the prompt
    /// template applied, truncated to the model's maximum length without hiding the response.
    /// </summary>
    int[] Encode(string prompt, string response);

    /// <summary>
    /// Scores token sequences made by <see cref="Encode"/> in one batched forward pass, writing one raw reward per
    /// sequence into <paramref name="rewards"/> (same order).
    /// </summary>
    void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default);
}
