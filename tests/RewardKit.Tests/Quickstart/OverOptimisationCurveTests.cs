using RewardKit.Quickstart;

namespace RewardKit.Tests.Quickstart;

public sealed class OverOptimisationCurveTests
{
    static CurvePoint P(double kl, double proxy, double gold) => new($"kl {kl}", kl, proxy, gold);

    [Fact]
    public void Gold_falling_after_its_peak_while_proxy_rises_is_over_optimisation()
    {
        var curve = new OverOptimisationCurve("ppo", [P(0, 0, 0), P(1, 1, 0.5), P(4, 2, 0.8), P(9, 3, 0.4)]);
        Assert.Equal(4, curve.GoldPeak!.Kl);
        Assert.Equal(2, curve.GoldPeak.SqrtKl);
        Assert.True(curve.OverOptimised);
    }

    [Fact]
    public void Gold_still_rising_or_falling_within_the_tolerance_is_not_over_optimisation()
    {
        Assert.False(new OverOptimisationCurve("best_of_n", [P(0, 0, 0), P(1, 1, 0.5), P(4, 2, 0.8)]).OverOptimised);
        Assert.False(new OverOptimisationCurve("best_of_n", [P(0, 0, 0), P(4, 2, 0.8), P(9, 3, 0.78)], tolerance: 0.05).OverOptimised);
        // gold fell, but proxy fell too: the proxy did not keep rising past the gold peak
        Assert.False(new OverOptimisationCurve("ppo", [P(0, 0, 0), P(4, 2, 0.8), P(9, 1.5, 0.2)]).OverOptimised);
    }

    [Fact]
    public void A_negative_kl_estimate_counts_as_zero_on_the_square_root_axis()
    {
        Assert.Equal(0, P(-0.3, 0, 0).SqrtKl);
        Assert.Null(new OverOptimisationCurve("ppo", []).GoldPeak);
    }
}
