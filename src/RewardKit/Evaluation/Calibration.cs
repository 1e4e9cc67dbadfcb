namespace RewardKit.Evaluation;

/// <summary>How calibration bins are formed.</summary>
public enum BinningScheme
{
    /// <summary>Bins hold (nearly) equal numbers of pairs, by sorted confidence (default).</summary>
    EqualMass,
    /// <summary>Bins split the confidence range [0.5, 1] into equal widths.</summary>
    EqualWidth,
}

/// <summary>One row of the reliability table.</summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double MeanConfidence, double Accuracy);

/// <summary>ECE, MCE and the reliability table.</summary>
public sealed record CalibrationResult(double Ece, double Mce, IReadOnlyList<ReliabilityBin> Bins);

/// <summary>The ECE a perfectly calibrated predictor with the same confidences shows on the same number of pairs.</summary>
public sealed record EceNoiseFloor(double Mean, double Percentile95, int Simulations);

/// <summary>
/// Binary calibration of preference probabilities. For a pair the model serves p = σ(Δ/T), its probability that the
/// labelled chosen response is preferred. Symmetric convention: the prediction is "chosen" when p &gt; ½, its confidence
/// is c = max(p, 1−p) ∈ [½, 1], and it is correct (1) when the prediction matches the label, ½ when p = ½.
/// ECE = Σ_b (n_b/n)|acc_b − conf_b|, MCE = max_b |acc_b − conf_b| over non-empty bins.
/// </summary>
public static class Calibration
{
    /// <summary>Confidence c = max(p, 1−p) and correctness for probabilities that the labelled chosen is preferred.</summary>
    public static (double[] Confidence, double[] Correct) ConfidenceAndCorrectness(ReadOnlySpan<double> pChosen)
    {
        var conf = new double[pChosen.Length];
        var correct = new double[pChosen.Length];
        for (int i = 0; i < pChosen.Length; i++)
        {
            var p = pChosen[i];
            if (!(p >= 0 && p <= 1)) throw new ArgumentException($"probability {i} is {p}; probabilities must lie in [0, 1].");
            conf[i] = Math.Max(p, 1 - p);
            correct[i] = p > 0.5 ? 1 : p < 0.5 ? 0 : 0.5;
        }
        return (conf, correct);
    }

    /// <summary>Calibration of served probabilities p_i = P(chosen ≻ rejected).</summary>
    public static CalibrationResult Evaluate(ReadOnlySpan<double> pChosen, int bins = 10, BinningScheme scheme = BinningScheme.EqualMass)
    {
        var (conf, correct) = ConfidenceAndCorrectness(pChosen);
        return Evaluate(conf, correct, bins, scheme);
    }

    /// <summary>Calibration from confidences in [½, 1] and correctness values in {0, ½, 1}.</summary>
    public static CalibrationResult Evaluate(double[] confidence, double[] correct, int bins = 10, BinningScheme scheme = BinningScheme.EqualMass)
    {
        PreferenceMetrics.RequireNonEmpty(confidence.Length);
        if (bins < 1) throw new ArgumentException($"bins must be at least 1 (got {bins}).", nameof(bins));
        var assignment = AssignBins(confidence, bins, scheme, out var lower, out var upper);
        var n = new int[bins];
        var sumC = new double[bins];
        var sumA = new double[bins];
        for (int i = 0; i < confidence.Length; i++)
        {
            int b = assignment[i];
            n[b]++; sumC[b] += confidence[i]; sumA[b] += correct[i];
        }
        double ece = 0, mce = 0;
        var table = new List<ReliabilityBin>(bins);
        for (int b = 0; b < bins; b++)
        {
            if (n[b] == 0) { table.Add(new ReliabilityBin(lower[b], upper[b], 0, double.NaN, double.NaN)); continue; }
            double c = sumC[b] / n[b], a = sumA[b] / n[b], gap = Math.Abs(a - c);
            ece += gap * n[b] / confidence.Length;
            mce = Math.Max(mce, gap);
            table.Add(new ReliabilityBin(lower[b], upper[b], n[b], c, a));
        }
        return new CalibrationResult(ece, mce, table);
    }

    /// <summary>
    /// Simulates a perfectly calibrated predictor with the same confidences: correct_i ~ Bernoulli(c_i), and returns the
    /// mean and 95th percentile of its ECE over <paramref name="simulations"/> draws (seeded).
    /// </summary>
    public static EceNoiseFloor NoiseFloor(double[] confidence, int bins = 10, BinningScheme scheme = BinningScheme.EqualMass,
        int simulations = 1000, int seed = 0, CancellationToken cancellationToken = default)
    {
        PreferenceMetrics.RequireNonEmpty(confidence.Length);
        var rng = new Random(seed);
        var values = new double[simulations];
        var correct = new double[confidence.Length];
        for (int s = 0; s < simulations; s++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < correct.Length; i++) correct[i] = rng.NextDouble() < confidence[i] ? 1 : 0;
            values[s] = Evaluate(confidence, correct, bins, scheme).Ece;
        }
        Array.Sort(values);
        return new EceNoiseFloor(values.Average(), Bootstrap.Percentile(values, 0.95), simulations);
    }

    /// <summary>Mean absolute error and RMSE of served probabilities against the true preference probabilities.</summary>
    public static (double MeanAbsoluteError, double Rmse) ErrorAgainstTruth(ReadOnlySpan<double> pChosen, ReadOnlySpan<double> pTrue)
    {
        if (pChosen.Length != pTrue.Length) throw new ArgumentException("pChosen and pTrue differ in length.");
        PreferenceMetrics.RequireNonEmpty(pChosen.Length);
        double abs = 0, sq = 0;
        for (int i = 0; i < pChosen.Length; i++) { var e = pChosen[i] - pTrue[i]; abs += Math.Abs(e); sq += e * e; }
        return (abs / pChosen.Length, Math.Sqrt(sq / pChosen.Length));
    }

    static int[] AssignBins(double[] confidence, int bins, BinningScheme scheme, out double[] lower, out double[] upper)
    {
        var assignment = new int[confidence.Length];
        lower = new double[bins];
        upper = new double[bins];
        if (scheme == BinningScheme.EqualWidth)
        {
            for (int b = 0; b < bins; b++) { lower[b] = 0.5 + 0.5 * b / bins; upper[b] = 0.5 + 0.5 * (b + 1) / bins; }
            for (int i = 0; i < confidence.Length; i++)
                assignment[i] = Math.Clamp((int)Math.Floor((confidence[i] - 0.5) * 2 * bins), 0, bins - 1);
            return assignment;
        }
        var order = Enumerable.Range(0, confidence.Length).OrderBy(i => confidence[i]).ToArray();
        for (int k = 0; k < order.Length; k++) assignment[order[k]] = (int)((long)k * bins / order.Length);
        for (int b = 0; b < bins; b++) { lower[b] = double.PositiveInfinity; upper[b] = double.NegativeInfinity; }
        foreach (var i in order)
        {
            int b = assignment[i];
            lower[b] = Math.Min(lower[b], confidence[i]);
            upper[b] = Math.Max(upper[b], confidence[i]);
        }
        for (int b = 0; b < bins; b++) if (double.IsInfinity(lower[b])) { lower[b] = double.NaN; upper[b] = double.NaN; }
        return assignment;
    }
}
