namespace RewardKit.Evaluation;

/// <summary>A point estimate with a percentile bootstrap 95% confidence interval.</summary>
public sealed record Estimate(double Value, double Lower, double Upper);

/// <summary>Percentile bootstrap resampling whole prompt groups (pairs sharing a prompt are not independent).</summary>
public static class Bootstrap
{
    /// <summary>
    /// Draws <paramref name="resamples"/> samples of G groups with replacement from the G distinct group ids, evaluates
    /// <paramref name="metric"/> on the concatenated items, and returns the 2.5% / 97.5% percentiles. Seeded: same inputs, same CI.
    /// </summary>
    public static Estimate ByGroup<T>(IReadOnlyList<T> items, Func<T, string> groupOf, Func<IReadOnlyList<T>, double> metric,
        int resamples = 1000, int seed = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        PreferenceMetrics.RequireNonEmpty(items.Count);
        if (resamples < 1) throw new ArgumentException("resamples must be at least 1.", nameof(resamples));
        var groups = items.GroupBy(groupOf).Select(g => g.ToArray()).ToArray();
        var point = metric(items);
        var rng = new Random(seed);
        var values = new double[resamples];
        var buffer = new List<T>(items.Count);
        for (int b = 0; b < resamples; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            buffer.Clear();
            for (int g = 0; g < groups.Length; g++) buffer.AddRange(groups[rng.Next(groups.Length)]);
            values[b] = metric(buffer);
        }
        Array.Sort(values);
        return new Estimate(point, Percentile(values, 0.025), Percentile(values, 0.975));
    }

    /// <summary>Linear-interpolated percentile (numpy's default) of sorted values, q in [0, 1].</summary>
    public static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0) throw new ArgumentException("no values.");
        var pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
