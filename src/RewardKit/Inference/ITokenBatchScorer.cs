namespace RewardKit.Inference;

/// <summary>
/// Runs the forward passes for token sequences made by <see cref="IRewardModel.Encode"/>. The direct implementation
/// scores on the caller's thread; <see cref="MicroBatcher"/> lets concurrent callers share forward passes.
/// </summary>
public interface ITokenBatchScorer
{
    /// <summary>Returns one raw reward per sequence, in order.</summary>
    ValueTask<float[]> ScoreAsync(IReadOnlyList<int[]> sequences, CancellationToken cancellationToken = default);
}

/// <summary>Scores on the caller's thread with <see cref="LengthSortedScoring.Score(IRewardModel, IReadOnlyList{int[]}, Span{float}, int, CancellationToken)"/>.</summary>
/// <param name="model">The model.</param>
/// <param name="batchSize">Sequences per forward pass.</param>
public sealed class DirectTokenScorer(IRewardModel model, int batchSize) : ITokenBatchScorer
{
    /// <inheritdoc/>
    public ValueTask<float[]> ScoreAsync(IReadOnlyList<int[]> sequences, CancellationToken cancellationToken = default)
    {
        var rewards = new float[sequences.Count];
        LengthSortedScoring.Score(model, sequences, rewards, batchSize, cancellationToken);
        return ValueTask.FromResult(rewards);
    }
}
