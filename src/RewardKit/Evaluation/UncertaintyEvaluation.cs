using RewardKit.Data;
using RewardKit.Inference;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Evaluation;

/// <summary>
/// Does an ensemble know when it is wrong? On labelled pairs, an error is a pair whose mean reward difference
/// r(chosen) − r(rejected) is ≤ 0; the AUROC of an uncertainty score for telling the errors from the correct pairs is the
/// probability that a random error gets a higher score than a random correct pair (0.5: no better than chance).
/// </summary>
public static class UncertaintyEvaluation
{
    /// <summary>The AUROCs of the members' disagreement and of p(1 − p), over how many pairs and errors.</summary>
    /// <param name="Auroc">AUROC of the disagreement (the standard deviation over members of σ((r_k(chosen) − r_k(rejected)) / T), see <see cref="EnsembleStatistics.PairDisagreement"/>): the report's <c>uncertainty_auroc</c>.</param>
    /// <param name="BernoulliAuroc">AUROC of p(1 − p), p = σ(mean difference / T): how well closeness to a coin flip alone predicts the errors.</param>
    /// <param name="Pairs">Pairs scored.</param>
    /// <param name="Errors">Pairs the ensemble's mean got wrong (difference ≤ 0).</param>
    public sealed record Result(double Auroc, double BernoulliAuroc, int Pairs, int Errors);

    /// <summary>Scores <paramref name="pairs"/> with every member and measures how well the uncertainty predicts the ensemble's errors.</summary>
    public static Result Evaluate(IUncertainRewardModel model, IReadOnlyList<PreferencePair> pairs, double temperature = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        var (difference, disagreement) = EnsembleStatistics.ScorePairs(model, [.. pairs.Select(p => (p.Prompt, p.Chosen, p.Rejected))], temperature, cancellationToken: cancellationToken);
        var errors = difference.Select(d => d <= 0).ToArray();
        var bernoulli = difference.Select(d => { double p = Activations.Sigmoid(d / temperature); return p * (1 - p); }).ToArray();
        return new Result(Auroc(disagreement, errors), Auroc(bernoulli, errors), pairs.Count, errors.Count(e => e));
    }

    /// <summary>
    /// The area under the ROC curve of <paramref name="scores"/> for <paramref name="positives"/> (Mann-Whitney U / (n₊·n₋),
    /// ties half); NaN when either class is empty.
    /// </summary>
    public static double Auroc(IReadOnlyList<double> scores, IReadOnlyList<bool> positives)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(positives);
        if (scores.Count != positives.Count) throw new ArgumentException($"Auroc: {scores.Count} scores for {positives.Count} labels.", nameof(positives));
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double positiveRanks = 0;
        long nPositive = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end < order.Length && scores[order[end]] == scores[order[start]]) end++;
            double rank = (start + 1 + end) / 2.0;   // the mean 1-based rank of a run of equal scores
            for (int j = start; j < end; j++)
                if (positives[order[j]]) { positiveRanks += rank; nPositive++; }
            start = end;
        }
        long nNegative = scores.Count - nPositive;
        if (nPositive == 0 || nNegative == 0) return double.NaN;
        return (positiveRanks - nPositive * (nPositive + 1) / 2.0) / ((double)nPositive * nNegative);
    }
}
