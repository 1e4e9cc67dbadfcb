using RewardKit.Training.Losses;

namespace RewardKit.Tests.Training.Losses;

/// <summary>The contrastive loss against its formula, written out in double.</summary>
public class ContrastiveTests
{
    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    public void Contrastive_is_the_softmax_cross_entropy_of_the_pair_at_temperature_tau(float tau) =>
        Assert.Equal(PairLossFormula.Mean(d => -Math.Log(1 / (1 + Math.Exp(-d / tau)))), PairLossFormula.Loss((t, c, r) => Contrastive.Loss(t, c, r, tau)), 5);
}
