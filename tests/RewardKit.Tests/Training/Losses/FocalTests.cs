using RewardKit.Training.Losses;

namespace RewardKit.Tests.Training.Losses;

/// <summary>The focal loss against its formula, written out in double.</summary>
public class FocalTests
{
    [Theory]
    [InlineData(0f)]
    [InlineData(2f)]
    public void Focal_is_the_mean_of_one_minus_p_to_gamma_times_minus_log_p(float gamma) =>
        Assert.Equal(PairLossFormula.Mean(d => { double p = 1 / (1 + Math.Exp(-d)); return Math.Pow(1 - p, gamma) * -Math.Log(p); }),
            PairLossFormula.Loss((t, c, r) => Focal.Loss(t, c, r, gamma)), 5);
}
