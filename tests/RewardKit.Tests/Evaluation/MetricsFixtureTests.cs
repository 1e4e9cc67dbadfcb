using System.Text.Json;
using RewardKit.Evaluation;

namespace RewardKit.Tests.Evaluation;

public class MetricsFixtureTests
{
    static readonly JsonElement F = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Evaluation", "Fixtures", "metrics.json"))).RootElement;
    static double[] D(string k) => F.GetProperty(k).EnumerateArray().Select(e => e.GetDouble()).ToArray();
    static double N(string k) => F.GetProperty(k).GetDouble();

    [Fact]
    public void Pearson_Spearman_and_Kendall_tau_b_match_scipy_with_ties()
    {
        Assert.Equal(N("pearson"), Correlation.Pearson(D("x"), D("y")), 1e-9);
        Assert.Equal(N("spearman"), Correlation.Spearman(D("x"), D("y")), 1e-9);
        Assert.Equal(N("kendall_tau_b"), Correlation.KendallTauB(D("x"), D("y")), 1e-9);
    }

    [Fact]
    public void Mann_Whitney_greater_matches_scipy_asymptotic_with_continuity()
    {
        var r = HypothesisTests.MannWhitneyGreater(D("chosen"), D("rejected"));
        Assert.Equal(N("mannwhitney_u"), r.Statistic, 1e-9);
        Assert.Equal(N("mannwhitney_p"), r.PValue, 1e-9);
    }

    [Fact]
    public void Brier_and_log_loss_match_sklearn()
    {
        var y = D("outcomes").Select(v => (int)v).ToArray();
        Assert.Equal(N("brier"), PreferenceMetrics.Brier(D("p"), y), 1e-9);
        Assert.Equal(N("log_loss"), PreferenceMetrics.LogLoss(D("p"), y), 1e-9);
    }

    [Fact]
    public void McNemar_matches_scipy_binomial_and_chi_square()
    {
        int b = (int)N("mcnemar_b"), c = (int)N("mcnemar_c");
        var a = Enumerable.Repeat(true, b).Concat(Enumerable.Repeat(false, c)).Concat(Enumerable.Repeat(true, 5)).ToArray();
        var m = Enumerable.Repeat(false, b).Concat(Enumerable.Repeat(true, c)).Concat(Enumerable.Repeat(true, 5)).ToArray();
        var r = HypothesisTests.McNemar(a, m);
        Assert.Equal(N("mcnemar_exact_p"), r.ExactPValue, 1e-9);
        Assert.Equal(N("mcnemar_chi2"), r.ChiSquare, 1e-9);
        Assert.Equal(N("mcnemar_chi2_p"), r.ChiSquarePValue, 1e-9);
    }
}
