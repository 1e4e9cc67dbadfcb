using RewardKit.IO;
using RewardKit.Inference;

namespace RewardKit.Tests.Inference;

public class DriftMonitorTests
{
    // Training distribution: uniform on [0, 10) in 10 bins.
    static readonly RewardHistogram Uniform = new(Enumerable.Range(0, 11).Select(i => (double)i).ToArray(), Enumerable.Repeat(100L, 10).ToArray());

    static double[] Sample(int n, Func<Random, double> draw, int seed = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => draw(rng)).ToArray();
    }

    [Fact]
    public void Rewards_from_the_training_distribution_show_little_drift_and_shifted_ones_much()
    {
        var same = new DriftMonitor(Uniform);
        same.Add(Sample(5000, r => r.NextDouble() * 10));
        var shifted = new DriftMonitor(Uniform);
        shifted.Add(Sample(5000, r => r.NextDouble() * 10 + 4));
        var a = same.Report();
        var b = shifted.Report();
        Assert.True(a.PopulationStabilityIndex < 0.02, $"psi {a.PopulationStabilityIndex}");
        Assert.True(a.KolmogorovSmirnov < 0.05, $"ks {a.KolmogorovSmirnov}");
        Assert.True(b.PopulationStabilityIndex > 0.25, $"psi {b.PopulationStabilityIndex}");
        Assert.Equal(0.4, b.KolmogorovSmirnov!.Value, 1);
        Assert.True(b.ServedCounts[^1] > 1000); // rewards above the training range land in the overflow bin
    }

    [Fact]
    public void The_KS_statistic_matches_a_brute_force_sup_over_a_fine_grid()
    {
        var sample = Sample(300, r => Math.Pow(r.NextDouble(), 2) * 12 - 1, seed: 7);
        var ks = DriftMonitor.KolmogorovSmirnov(Uniform, sample);
        var sorted = sample.Order().ToArray();
        var brute = 0.0;
        for (var x = -2.0; x <= 12; x += 1e-3)
        {
            var f = Math.Clamp(x / 10, 0, 1);
            var below = sorted.Count(v => v <= x) / 300.0;
            brute = Math.Max(brute, Math.Abs(f - below));
        }
        Assert.True(ks >= brute - 1e-9, $"ks {ks} < grid sup {brute}");
        Assert.True(ks - brute < 0.02, $"ks {ks} far above grid sup {brute}");
    }

    [Fact]
    public void PSI_matches_its_formula()
    {
        long[] expected = [50, 30, 20];
        long[] actual = [20, 30, 50];
        var psi = DriftMonitor.PopulationStabilityIndex(expected, actual);
        var formula = (0.2 - 0.5) * Math.Log(0.2 / 0.5) + 0 + (0.5 - 0.2) * Math.Log(0.5 / 0.2);
        Assert.Equal(formula, psi, 12);
        Assert.Equal(0, DriftMonitor.PopulationStabilityIndex(expected, expected), 12);
    }

    [Fact]
    public void The_window_keeps_only_the_most_recent_rewards()
    {
        var monitor = new DriftMonitor(Uniform, window: 100);
        monitor.Add(Sample(100, _ => 20)); // all overflow
        monitor.Add(Sample(100, _ => 5.5));
        var report = monitor.Report();
        Assert.Equal(100, report.Served);
        Assert.Equal(0, report.ServedCounts[^1]);
        Assert.Equal(100, report.ServedCounts[6]); // bin [5, 6) after the underflow bin
    }

    [Fact]
    public void Without_a_training_histogram_the_report_says_how_to_get_one()
    {
        var monitor = new DriftMonitor(null);
        monitor.Add(1.0);
        var report = monitor.Report();
        Assert.False(report.HasTrainingDistribution);
        Assert.Null(report.PopulationStabilityIndex);
        Assert.Contains("reward_histogram", report.Note);
    }

    [Fact]
    public void A_malformed_training_histogram_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => new DriftMonitor(new RewardHistogram([0, 1, 2], [5])));
        Assert.Contains("reward_histogram", e.Message);
        Assert.Throws<InvalidDataException>(() => new DriftMonitor(new RewardHistogram([0, 2, 1], [1, 1])));
    }
}
