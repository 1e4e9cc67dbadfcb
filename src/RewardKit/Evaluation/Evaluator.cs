using RewardKit.Tensors.Kernels;

namespace RewardKit.Evaluation;

/// <summary>Options for <see cref="Evaluator.Evaluate"/>.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Temperature for served probabilities (null: T = 1). Default null.</summary>
    public double? Temperature { get; init; }
    /// <summary>Calibration bins. Default 10.</summary>
    public int Bins { get; init; } = 10;
    /// <summary>Binning scheme. Default equal mass.</summary>
    public BinningScheme Scheme { get; init; } = BinningScheme.EqualMass;
    /// <summary>Bootstrap resamples. Default 1000.</summary>
    public int Resamples { get; init; } = 1000;
    /// <summary>ECE noise floor simulations. Default 1000.</summary>
    public int NoiseSimulations { get; init; } = 1000;
    /// <summary>Random seed. Default 0.</summary>
    public int Seed { get; init; }
}

/// <summary>Turns scored pairs into an <see cref="EvaluationReport"/>. Wiring: score pairs, build <see cref="ScoredPair"/>s, call this.</summary>
public static class Evaluator
{
    /// <summary>Computes every metric of the report.</summary>
    public static EvaluationReport Evaluate(IReadOnlyList<ScoredPair> pairs, EvaluationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        PreferenceMetrics.RequireNonEmpty(pairs.Count);
        options ??= new EvaluationOptions();
        double t = options.Temperature ?? 1;
        PreferenceMetrics.RequireTemperature(t);
        var margins = pairs.Select(p => p.Margin).ToArray();
        var served = margins.Select(d => Activations.Sigmoid(d / t)).ToArray();
        var raw = margins.Select(Activations.Sigmoid).ToArray();
        var cal = Calibration.Evaluate(served, options.Bins, options.Scheme);
        var (conf, _) = Calibration.ConfidenceAndCorrectness(served);

        Estimate Acc(IReadOnlyList<ScoredPair> xs) => Bootstrap.ByGroup(xs, p => p.GroupId,
            ys => PreferenceMetrics.Accuracy(ys.Select(y => y.Margin).ToArray()), options.Resamples, options.Seed, cancellationToken);
        Dictionary<string, Estimate> By(Func<ScoredPair, string?> key) => pairs.Where(p => key(p) != null)
            .GroupBy(p => key(p)!).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => Acc(g.ToList()));

        var datasets = By(p => p.Source);
        var first = pairs[0].Source;
        var gap = first == null ? new Dictionary<string, double>() :
            datasets.Where(kv => kv.Key != first).ToDictionary(kv => kv.Key, kv => datasets[first].Value - kv.Value.Value);

        ProbabilityError? pErr = null;
        if (pairs.All(p => p.PTrue.HasValue))
        {
            var (mae, rmse) = Calibration.ErrorAgainstTruth(served, pairs.Select(p => p.PTrue!.Value).ToArray());
            pErr = new ProbabilityError(mae, rmse);
        }
        double? gold = null;
        if (pairs.All(p => p.GoldChosen.HasValue && p.GoldRejected.HasValue))
            gold = Correlation.Spearman(pairs.SelectMany(p => new[] { p.RewardChosen, p.RewardRejected }).ToArray(),
                pairs.SelectMany(p => new[] { p.GoldChosen!.Value, p.GoldRejected!.Value }).ToArray());

        return new EvaluationReport
        {
            Pairs = pairs.Count,
            Accuracy = Acc(pairs),
            Ece = cal.Ece,
            EceUncalibrated = Calibration.Evaluate(raw, options.Bins, options.Scheme).Ece,
            Mce = cal.Mce,
            EceNoiseFloor = Calibration.NoiseFloor(conf, options.Bins, options.Scheme, options.NoiseSimulations, options.Seed, cancellationToken),
            Temperature = options.Temperature,
            LogLoss = PreferenceMetrics.LogLoss(margins, t),
            Brier = PreferenceMetrics.Brier(margins, t),
            RewardGap = PreferenceMetrics.RewardGap(margins),
            ChosenRewards = PreferenceMetrics.Statistics(pairs.Select(p => p.RewardChosen).ToArray()),
            RejectedRewards = PreferenceMetrics.Statistics(pairs.Select(p => p.RewardRejected).ToArray()),
            MannWhitney = HypothesisTests.MannWhitneyGreater(pairs.Select(p => p.RewardChosen).ToArray(), pairs.Select(p => p.RewardRejected).ToArray()),
            Reliability = cal.Bins,
            LengthBias = RobustnessAudit.LengthBias(pairs),
            PTrueError = pErr,
            GoldSpearman = gold,
            Datasets = datasets,
            RobustnessGap = gap,
            ByCategory = By(p => p.Category),
            ByAgreement = By(p => p.Agreement),
        };
    }
}
