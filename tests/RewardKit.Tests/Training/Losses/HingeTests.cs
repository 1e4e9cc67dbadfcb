using RewardKit.Training.Losses;

namespace RewardKit.Tests.Training.Losses;

/// <summary>Hinge loss against its formula, written out in double.</summary>
public class HingeTests
{
    [Theory]
    [InlineData(1f)]
    [InlineData(0.3f)]
    public void Hinge_is_the_mean_of_max_zero_margin_minus_difference(float margin) =>
        Assert.Equal(PairLossFormula.Mean(d => Math.Max(0, margin - d)), PairLossFormula.Loss((t, c, r) => Hinge.Loss(t, c, r, margin)), 5);
}
