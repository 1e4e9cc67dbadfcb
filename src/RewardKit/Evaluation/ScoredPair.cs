namespace RewardKit.Evaluation;

/// <summary>One preference pair after scoring: the evaluator's input record.</summary>
/// <param name="GroupId">Prompt identity; bootstrap resamples whole groups.</param>
/// <param name="Category">Category label, or null.</param>
/// <param name="Source">Source file / dataset name, or null.</param>
/// <param name="RewardChosen">Raw reward of the labelled chosen response.</param>
/// <param name="RewardRejected">Raw reward of the labelled rejected response.</param>
/// <param name="ChosenLength">Length of the chosen response (characters or tokens).</param>
/// <param name="RejectedLength">Length of the rejected response.</param>
/// <param name="PTrue">True probability that chosen is preferred (synthetic data), or null.</param>
/// <param name="GoldChosen">Gold reward of chosen, or null.</param>
/// <param name="GoldRejected">Gold reward of rejected, or null.</param>
/// <param name="Agreement">Annotator agreement level, or null.</param>
public sealed record ScoredPair(
    string GroupId,
    string? Category,
    string? Source,
    double RewardChosen,
    double RewardRejected,
    int ChosenLength,
    int RejectedLength,
    double? PTrue = null,
    double? GoldChosen = null,
    double? GoldRejected = null,
    string? Agreement = null)
{
    /// <summary>Reward margin Δ = r_chosen − r_rejected.</summary>
    public double Margin => RewardChosen - RewardRejected;
}
