using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Kernels;

public class OptimizerKernelsTests
{
    public static TheoryData<Activations.Width, bool> WidthsAndDecay()
    {
        var data = new TheoryData<Activations.Width, bool>();
        foreach (var width in ActivationsTests.Widths())
        {
            data.Add(width, false);
            data.Add(width, true);
        }
        return data;
    }

    static OptimizerKernels.AdamCoefficients Coefficients(bool coupled) =>
        new(Beta1: 0.9f, Beta2: 0.99f, Eps: 1e-8f, StepSize: 0.05f / (1 - 0.9f * 0.9f), Bias2Sqrt: MathF.Sqrt(1 - 0.99f * 0.99f),
            Keep: coupled ? 1f : 0.995f, L2: coupled ? 0.1f : 0f);

    [Theory]
    [MemberData(nameof(WidthsAndDecay))]
    public void Adam_step_is_bit_identical_to_the_reference_at_every_length_0_to_67_and_129(Activations.Width width, bool coupled)
    {
        foreach (int n in Enumerable.Range(0, 68).Append(129))
        {
            var rng = new Rng(7 + (ulong)n);
            var p = Tensor.Normal(rng, 0, 1, n).ToArray();
            var g = Tensor.Normal(rng, 0, 1, n).ToArray();
            var m = Tensor.Normal(rng, 0, 0.1f, n).ToArray();
            var v = Tensor.Uniform(rng, 0, 0.01f, n).ToArray();
            float[] p2 = (float[])p.Clone(), m2 = (float[])m.Clone(), v2 = (float[])v.Clone();
            var c = Coefficients(coupled);
            OptimizerKernels.AdamStep(p, g, m, v, c, width);
            OptimizerKernels.AdamStepReference(p2, g, m2, v2, c);
            Assert.Equal(p2, p);
            Assert.Equal(m2, m);
            Assert.Equal(v2, v);
            if (n > 0) Assert.NotEqual(g, p);   // the step moved something
        }
    }

    [Fact]
    public void Adam_step_rejects_spans_of_different_lengths() =>
        Assert.Contains("same length", Assert.Throws<ArgumentException>(() =>
            OptimizerKernels.AdamStep(new float[4], new float[4], new float[3], new float[4], Coefficients(false))).Message);

    [Theory]
    [MemberData(nameof(ActivationsTests.Widths), MemberType = typeof(ActivationsTests))]
    public void Sum_of_squares_is_bit_identical_to_its_reference_and_close_to_a_plain_double_sum(Activations.Width width)
    {
        foreach (int n in Enumerable.Range(0, 68).Concat([129, 1000, 4099]))
        {
            var x = Tensor.Normal(new Rng(11 + (ulong)n), 0, 2, n).ToArray();
            double plain = 0;
            foreach (float xi in x) plain += (double)xi * xi;
            double fast = OptimizerKernels.SumOfSquares(x, width);
            Assert.Equal(OptimizerKernels.SumOfSquaresReference(x), fast);
            Assert.Equal(plain, fast, 1e-12 * Math.Max(1, plain));
        }
    }
}
