using RewardKit.Evaluation;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tests.Evaluation;

public class CalibrationTests
{
    static double[] CalibratedMargins(int n, double scale, int seed, out double[] pTrue)
    {
        // Margins whose true preference probability is σ(Δ/scale): label "chosen" is correct with prob σ(|Δ|/scale).
        var rng = new Random(seed);
        var d = new double[n];
        pTrue = new double[n];
        for (int i = 0; i < n; i++)
        {
            var m = rng.NextDouble() * 4 - 2;
            var p = Activations.Sigmoid(m);
            var chosenIsFirst = rng.NextDouble() < p;
            d[i] = (chosenIsFirst ? m : -m) * scale;
            pTrue[i] = chosenIsFirst ? p : 1 - p;
        }
        return d;
    }

    [Fact]
    public void Temperature_scaling_recovers_the_scale_of_overconfident_margins_and_lowers_log_loss()
    {
        var d = CalibratedMargins(20000, 3, 1, out _);
        var fit = TemperatureScaling.Fit(d);
        Assert.InRange(fit.Temperature, 2.7, 3.3);
        Assert.True(fit.LogLossAfter < fit.LogLossBefore);
        // Exact optimum: the log loss gradient in β vanishes.
        double beta = 1 / fit.Temperature, g = 0;
        foreach (var x in d) g -= x * (1 - Activations.Sigmoid(beta * x));
        Assert.True(Math.Abs(g / d.Length) < 1e-12);
        Assert.True(PreferenceMetrics.LogLoss(d, fit.Temperature * 1.01) > fit.LogLossAfter);
        Assert.True(PreferenceMetrics.LogLoss(d, fit.Temperature * 0.99) > fit.LogLossAfter);
    }

    [Fact]
    public void Temperature_scaling_rejects_separable_and_anti_correlated_margins()
    {
        Assert.Throws<ArgumentException>(() => TemperatureScaling.Fit(new double[] { 1, 2, 3 }));
        Assert.Throws<ArgumentException>(() => TemperatureScaling.Fit(new double[] { -1, -2, 0.5 }));
    }

    [Fact]
    public void Calibrated_probabilities_have_ECE_near_the_noise_floor_and_overconfident_ones_do_not()
    {
        var d = CalibratedMargins(2000, 1, 2, out var pTrue);
        var p = d.Select(Activations.Sigmoid).ToArray();
        var cal = Calibration.Evaluate(p);
        var (conf, _) = Calibration.ConfidenceAndCorrectness(p);
        var floor = Calibration.NoiseFloor(conf, simulations: 300);
        Assert.InRange(floor.Mean, 0.012, 0.035);
        Assert.True(floor.Percentile95 > floor.Mean);
        Assert.True(cal.Ece < floor.Percentile95 * 1.5);
        var over = Calibration.Evaluate(d.Select(x => Activations.Sigmoid(3 * x)).ToArray());
        Assert.True(over.Ece > 3 * floor.Percentile95);
        Assert.Equal(0, Calibration.ErrorAgainstTruth(pTrue, pTrue).MeanAbsoluteError);
        Assert.Equal(10, cal.Bins.Count);
        Assert.Equal(2000, cal.Bins.Sum(b => b.Count));
    }

    [Fact]
    public void Equal_width_bins_cover_half_to_one_and_MCE_is_the_largest_gap()
    {
        var p = new[] { 0.55, 0.45, 0.95, 0.9, 0.2 };
        var r = Calibration.Evaluate(p, bins: 5, scheme: BinningScheme.EqualWidth);
        Assert.Equal(0.5, r.Bins[0].Lower, 1e-12);
        Assert.Equal(1.0, r.Bins[^1].Upper, 1e-12);
        Assert.Equal(r.Bins.Where(b => b.Count > 0).Max(b => Math.Abs(b.Accuracy - b.MeanConfidence)), r.Mce, 1e-12);
    }

    [Fact]
    public void Accuracy_counts_ties_as_half_and_bootstrap_CI_brackets_the_estimate()
    {
        Assert.Equal(0.625, PreferenceMetrics.Accuracy(new double[] { 1, 0, -1, 2 }), 1e-12);
        var pairs = Enumerable.Range(0, 200).Select(i => (group: (i / 4).ToString(), margin: i % 3 == 0 ? -1.0 : 1.0)).ToList();
        var e = Bootstrap.ByGroup(pairs, x => x.group, xs => PreferenceMetrics.Accuracy(xs.Select(x => x.margin).ToArray()), 500, seed: 7);
        var again = Bootstrap.ByGroup(pairs, x => x.group, xs => PreferenceMetrics.Accuracy(xs.Select(x => x.margin).ToArray()), 500, seed: 7);
        Assert.Equal(e, again);
        Assert.True(e.Lower < e.Value && e.Value < e.Upper);
    }
}
