using RewardKit.Tensors;
using RewardKit.Training.Losses;

namespace RewardKit.Tests.Training.Losses;

/// <summary>The contrastive loss against its formula, written out in double.</summary>
public class ContrastiveTests
{
    static readonly float[] Chosen = [1.0f, 0.2f, -0.5f, 2.5f];
    static readonly float[] Rejected = [0.0f, 0.4f, -1.5f, 0.5f];

    static double Mean(Func<double, double> perPair) => Chosen.Select((c, i) => perPair(c - Rejected[i])).Average();

    static float Loss(Func<Tape, Tensor, Tensor, Tensor> loss)
    {
        var tape = new Tape();
        return loss(tape, Tensor.FromArray(Chosen, Chosen.Length), Tensor.FromArray(Rejected, Rejected.Length)).ToScalar();
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    public void Contrastive_is_the_softmax_cross_entropy_of_the_pair_at_temperature_tau(float tau) =>
        Assert.Equal(Mean(d => -Math.Log(1 / (1 + Math.Exp(-d / tau)))), Loss((t, c, r) => Contrastive.Loss(t, c, r, tau)), 5);
}
