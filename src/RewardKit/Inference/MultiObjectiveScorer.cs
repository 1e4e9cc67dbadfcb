using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.MultiObjective;

namespace RewardKit.Inference;

/// <summary>
/// <see cref="IObjectiveRewardModel"/> over a K-output GPT-2 reward model: one forward pass gives every objective's reward;
/// the reward of <see cref="IRewardModel.ScoreTokens"/> is their weighted sum Σ_k w_k · r_k.
/// </summary>
public sealed class MultiObjectiveScorer : IObjectiveRewardModel
{
    readonly GptRewardScorer _scorer;
    readonly bool _ownsScorer;

    /// <summary>Combines the K outputs of <paramref name="scorer"/>'s model with <paramref name="objectives"/>' weights.</summary>
    public MultiObjectiveScorer(GptRewardScorer scorer, RewardObjectives objectives) : this(scorer, objectives, ownsScorer: true) { }

    MultiObjectiveScorer(GptRewardScorer scorer, RewardObjectives objectives, bool ownsScorer)
    {
        _scorer = scorer ?? throw new ArgumentNullException(nameof(scorer));
        Objectives = objectives ?? throw new ArgumentNullException(nameof(objectives));
        _ownsScorer = ownsScorer;
    }

    /// <inheritdoc/>
    public RewardObjectives Objectives { get; }

    /// <inheritdoc/>
    public RewardModelMetadata Metadata => _scorer.Metadata;

    /// <inheritdoc/>
    public int[] Encode(string prompt, string response) => _scorer.Encode(prompt, response);

    /// <inheritdoc/>
    public void ScoreObjectives(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default) =>
        _scorer.ScoreOutputs(sequences, null, rewards, cancellationToken);

    /// <inheritdoc/>
    public void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (rewards.Length != sequences.Count)
            throw new ArgumentException($"ScoreTokens: {rewards.Length} reward slots for {sequences.Count} sequences.", nameof(rewards));
        int k = Objectives.Count;
        var outputs = new float[sequences.Count * k];
        ScoreObjectives(sequences, outputs, cancellationToken);
        for (int i = 0; i < sequences.Count; i++) rewards[i] = Objectives.Combine(outputs.AsSpan(i * k, k));
    }

    /// <inheritdoc/>
    public IObjectiveRewardModel WithWeights(IReadOnlyList<double> weights) => new MultiObjectiveScorer(_scorer, Objectives.WithWeights(weights), ownsScorer: false);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsScorer) _scorer.Dispose();
    }
}
