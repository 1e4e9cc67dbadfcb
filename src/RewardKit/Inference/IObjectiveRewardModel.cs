using RewardKit.Models.MultiObjective;

namespace RewardKit.Inference;

/// <summary>A reward model with one head per objective: besides the combined reward, each objective's.</summary>
public interface IObjectiveRewardModel : IRewardModel
{
    /// <summary>The objectives and the weights of the combined reward.</summary>
    RewardObjectives Objectives { get; }

    /// <summary>Each objective's raw reward of each sequence, row-major (n·K values), in one batched pass.</summary>
    void ScoreObjectives(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default);

    /// <summary>The same model combining its objectives with <paramref name="weights"/> instead (shares the weights, nothing is copied).</summary>
    IObjectiveRewardModel WithWeights(IReadOnlyList<double> weights);
}
