namespace RewardKit.Inference.Quantization;

/// <summary>What quantising a reward model cost, measured on preference pairs scored by both models.</summary>
/// <param name="Pairs">Pairs compared.</param>
/// <param name="PreferenceAgreement">Share of pairs whose preferred response is the same under both models (target ≥ 0.99).</param>
/// <param name="MaxAbsRewardDelta">max |r_quantised − r_float| over every scored response.</param>
/// <param name="MeanAbsRewardDelta">Mean |r_quantised − r_float|.</param>
public sealed record QuantizationCost(int Pairs, double PreferenceAgreement, double MaxAbsRewardDelta, double MeanAbsRewardDelta)
{
    /// <summary>
    /// Compares float rewards with quantised ones for the same pairs: chosen/rejected rewards of each pair under the
    /// float model (<paramref name="chosen"/>, <paramref name="rejected"/>) and the quantised one.
    /// </summary>
    public static QuantizationCost Measure(ReadOnlySpan<float> chosen, ReadOnlySpan<float> rejected,
                                           ReadOnlySpan<float> chosenQuantized, ReadOnlySpan<float> rejectedQuantized)
    {
        var n = chosen.Length;
        if (rejected.Length != n || chosenQuantized.Length != n || rejectedQuantized.Length != n)
            throw new ArgumentException($"all four reward arrays need one entry per pair; got {chosen.Length}, {rejected.Length}, {chosenQuantized.Length}, {rejectedQuantized.Length}.");
        if (n == 0) throw new ArgumentException("no pairs to compare.");
        var agree = 0;
        double max = 0, sum = 0;
        for (var i = 0; i < n; i++)
        {
            if (chosen[i] > rejected[i] == chosenQuantized[i] > rejectedQuantized[i]) agree++;
            var d1 = Math.Abs((double)chosenQuantized[i] - chosen[i]);
            var d2 = Math.Abs((double)rejectedQuantized[i] - rejected[i]);
            max = Math.Max(max, Math.Max(d1, d2));
            sum += d1 + d2;
        }
        return new QuantizationCost(n, (double)agree / n, max, sum / (2.0 * n));
    }
}
