using RewardKit.Evaluation;

namespace RewardKit.Tests.Evaluation;

public class PairedRewardMetricsTests
{
    [Fact]
    public void Ties_count_one_half_and_margin_is_the_mean_difference()
    {
        var m = PreferenceMetrics.Compute([2f, 1f, 0f], [1f, 1f, 3f]);
        Assert.Equal(0.5, m.Accuracy, 12);
        Assert.Equal((1 + 0 - 3) / 3.0, m.Margin, 6);
        Assert.Equal(8 / 6.0, m.MeanReward, 6);
    }
}
