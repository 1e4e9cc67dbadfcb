using RewardKit.IO;

namespace RewardKit.Inference;

/// <summary>How far the rewards a service has served have drifted from the training distribution.</summary>
/// <param name="Served">Rewards in the rolling window now.</param>
/// <param name="Window">The window's capacity (most recent rewards kept).</param>
/// <param name="HasTrainingDistribution">False when <c>rewardkit.json</c> holds no <c>reward_histogram</c>.</param>
/// <param name="PopulationStabilityIndex">
/// PSI = Σ (a − e) ln(a / e) over the training bins plus an underflow and an overflow bin (rule of thumb: &lt; 0.1
/// stable, 0.1–0.25 moderate shift, &gt; 0.25 major shift); null without a training distribution or served rewards.
/// </param>
/// <param name="KolmogorovSmirnov">
/// KS statistic sup |F_served − F_train|, with the training CDF piecewise linear inside each bin; null like PSI.
/// </param>
/// <param name="Edges">The bin edges used (the training histogram's).</param>
/// <param name="ServedCounts">Served rewards per bin: underflow, the training bins, overflow.</param>
/// <param name="Note">Why a statistic is missing, or null.</param>
public sealed record DriftReport(
    int Served, int Window, bool HasTrainingDistribution, double? PopulationStabilityIndex, double? KolmogorovSmirnov,
    double[] Edges, long[] ServedCounts, string? Note);

/// <summary>
/// Keeps a rolling window of the most recent rewards served and compares it with the training reward histogram from
/// <see cref="RewardModelMetadata.RewardHistogram"/>. Thread-safe.
/// </summary>
public sealed class DriftMonitor
{
    readonly RewardHistogram? _training;
    readonly double[] _ring;
    readonly Lock _lock = new();
    int _next, _count;

    /// <summary>Creates a monitor comparing the last <paramref name="window"/> rewards with <paramref name="training"/>.</summary>
    public DriftMonitor(RewardHistogram? training, int window = 10_000)
    {
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), window, "the drift window must hold at least 1 reward.");
        if (training is not null) Validate(training);
        _training = training;
        _ring = new double[window];
    }

    /// <summary>Records served rewards.</summary>
    public void Add(ReadOnlySpan<double> rewards)
    {
        lock (_lock)
        {
            foreach (var r in rewards)
            {
                if (!double.IsFinite(r)) continue;
                _ring[_next] = r;
                _next = (_next + 1) % _ring.Length;
                if (_count < _ring.Length) _count++;
            }
        }
    }

    /// <summary>Records one served reward.</summary>
    public void Add(double reward) => Add([reward]);

    /// <summary>PSI and KS of the current window against the training distribution.</summary>
    public DriftReport Report()
    {
        double[] sample;
        lock (_lock) sample = _ring.AsSpan(0, _count).ToArray();
        if (_training is null)
            return new DriftReport(sample.Length, _ring.Length, false, null, null, [], [], "the model's rewardkit.json has no reward_histogram; re-export the model with its training reward histogram to monitor drift.");
        var counts = Bin(_training.Edges, sample);
        if (sample.Length == 0)
            return new DriftReport(0, _ring.Length, true, null, null, _training.Edges, counts, "no rewards served yet.");
        var expected = new long[counts.Length];
        Array.Copy(_training.Counts, 0, expected, 1, _training.Counts.Length);
        return new DriftReport(sample.Length, _ring.Length, true, PopulationStabilityIndex(expected, counts),
            KolmogorovSmirnov(_training, sample), _training.Edges, counts, null);
    }

    /// <summary>Counts of <paramref name="values"/> per bin: underflow (&lt; edges[0]), each [edges[i], edges[i+1]), overflow (≥ last edge; the last bin includes its right edge).</summary>
    public static long[] Bin(double[] edges, ReadOnlySpan<double> values)
    {
        var counts = new long[edges.Length + 1];
        var last = edges.Length - 1;
        foreach (var v in values)
        {
            if (v < edges[0]) counts[0]++;
            else if (v > edges[last]) counts[^1]++;
            else if (v == edges[last]) counts[last]++;
            else
            {
                var i = Array.BinarySearch(edges, v);
                var bin = i >= 0 ? i : ~i - 1; // the bin whose left edge is <= v
                counts[bin + 1]++;
            }
        }
        return counts;
    }

    /// <summary>Population stability index Σ (a − e) ln(a / e) of two count vectors, proportions floored at <paramref name="epsilon"/>.</summary>
    public static double PopulationStabilityIndex(ReadOnlySpan<long> expected, ReadOnlySpan<long> actual, double epsilon = 1e-4)
    {
        if (expected.Length != actual.Length) throw new ArgumentException($"expected has {expected.Length} bins and actual {actual.Length}; they must match.");
        double te = 0, ta = 0;
        foreach (var c in expected) te += c;
        foreach (var c in actual) ta += c;
        if (te <= 0 || ta <= 0) throw new ArgumentException("both histograms need at least one count.");
        var psi = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var e = Math.Max(expected[i] / te, epsilon);
            var a = Math.Max(actual[i] / ta, epsilon);
            psi += (a - e) * Math.Log(a / e);
        }
        return psi;
    }

    /// <summary>
    /// The Kolmogorov-Smirnov statistic between a sample and a histogram's distribution, whose CDF is linear inside
    /// each bin (the exact sup for a continuous reference: checked just before and at each sample point).
    /// </summary>
    public static double KolmogorovSmirnov(RewardHistogram reference, ReadOnlySpan<double> sample)
    {
        Validate(reference);
        if (sample.Length == 0) throw new ArgumentException("the sample is empty.", nameof(sample));
        var sorted = sample.ToArray();
        Array.Sort(sorted);
        var cumulative = new double[reference.Counts.Length + 1];
        for (var i = 0; i < reference.Counts.Length; i++) cumulative[i + 1] = cumulative[i] + reference.Counts[i];
        var total = cumulative[^1];
        double Cdf(double x)
        {
            var edges = reference.Edges;
            if (x <= edges[0]) return 0;
            if (x >= edges[^1]) return 1;
            var i = Array.BinarySearch(edges, x);
            var bin = i >= 0 ? i : ~i - 1;
            var width = edges[bin + 1] - edges[bin];
            var within = width > 0 ? (x - edges[bin]) / width : 1;
            return (cumulative[bin] + within * reference.Counts[bin]) / total;
        }
        var n = sorted.Length;
        var d = 0.0;
        for (var i = 0; i < n; i++)
        {
            var f = Cdf(sorted[i]);
            d = Math.Max(d, Math.Max(f - (double)i / n, (double)(i + 1) / n - f));
        }
        // Between sample points the empirical CDF is flat while the reference rises: also check each edge.
        foreach (var edge in reference.Edges)
        {
            var below = UpperBound(sorted, edge);
            d = Math.Max(d, Math.Abs(Cdf(edge) - (double)below / n));
        }
        return d;
    }

    static int UpperBound(double[] sorted, double x)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi) { var mid = (lo + hi) / 2; if (sorted[mid] <= x) lo = mid + 1; else hi = mid; }
        return lo;
    }

    static void Validate(RewardHistogram h)
    {
        if (h.Edges is null || h.Counts is null || h.Edges.Length < 2 || h.Edges.Length != h.Counts.Length + 1)
            throw new InvalidDataException($"{RewardModelMetadata.FileName}: reward_histogram needs edges (bins + 1 values) and counts (bins values); got {h.Edges?.Length ?? 0} edges and {h.Counts?.Length ?? 0} counts.");
        for (var i = 1; i < h.Edges.Length; i++)
            if (!(h.Edges[i] > h.Edges[i - 1]))
                throw new InvalidDataException($"{RewardModelMetadata.FileName}: reward_histogram.edges must increase; edges[{i}] = {h.Edges[i]} follows {h.Edges[i - 1]}.");
        if (h.Counts.Any(c => c < 0) || h.Counts.Sum() == 0)
            throw new InvalidDataException($"{RewardModelMetadata.FileName}: reward_histogram.counts must be non-negative with at least one count.");
    }
}
