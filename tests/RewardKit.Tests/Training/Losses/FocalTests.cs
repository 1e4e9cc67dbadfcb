using RewardKit.Tensors;
using RewardKit.Training.Losses;

namespace RewardKit.Tests.Training.Losses;

/// <summary>The focal loss against its formula, written out in double.</summary>
public class FocalTests
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
    [InlineData(0f)]
    [InlineData(2f)]
    public void Focal_is_the_mean_of_one_minus_p_to_gamma_times_minus_log_p(float gamma) =>
        Assert.Equal(Mean(d => { double p = 1 / (1 + Math.Exp(-d)); return Math.Pow(1 - p, gamma) * -Math.Log(p); }),
            Loss((t, c, r) => Focal.Loss(t, c, r, gamma)), 5);
}
