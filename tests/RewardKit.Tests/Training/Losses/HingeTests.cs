using RewardKit.Tensors;
using RewardKit.Training.Losses;

namespace RewardKit.Tests.Training.Losses;

/// <summary>Hinge loss against its formula, written out in double.</summary>
public class HingeTests
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
    [InlineData(0.3f)]
    public void Hinge_is_the_mean_of_max_zero_margin_minus_difference(float margin) =>
        Assert.Equal(Mean(d => Math.Max(0, margin - d)), Loss((t, c, r) => Hinge.Loss(t, c, r, margin)), 5);
}
