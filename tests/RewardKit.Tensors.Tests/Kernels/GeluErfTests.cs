using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Kernels;

public class GeluErfTests
{
    [Theory]
    [MemberData(nameof(ActivationsTests.Widths), MemberType = typeof(ActivationsTests))]
    public void Forward_matches_the_double_reference_at_every_length_0_to_67(Activations.Width width)
    {
        for (int n = 0; n <= 67; n++)
        {
            var x = Tensor.Normal(new Rng((ulong)n), 0, 3, n).ToArray();
            var fast = new float[n];
            var reference = new float[n];
            GeluErf.Forward(x, fast, width);
            GeluErf.ForwardReference(x, reference);
            for (int i = 0; i < n; i++) Assert.Equal(reference[i], fast[i], 1e-7f + 1e-6f * Math.Abs(reference[i]));
        }
    }

    [Theory]
    [MemberData(nameof(ActivationsTests.Widths), MemberType = typeof(ActivationsTests))]
    public void Backward_matches_the_double_reference_at_every_length_0_to_67(Activations.Width width)
    {
        for (int n = 0; n <= 67; n++)
        {
            var rng = new Rng(100 + (ulong)n);
            var x = Tensor.Normal(rng, 0, 3, n).ToArray();
            var dy = Tensor.Normal(rng, 0, 1, n).ToArray();
            var fast = Enumerable.Repeat(0.25f, n).ToArray();
            var reference = Enumerable.Repeat(0.25f, n).ToArray();
            GeluErf.Backward(x, dy, fast, width);
            GeluErf.BackwardReference(x, dy, reference);
            for (int i = 0; i < n; i++) Assert.Equal(reference[i], fast[i], 1e-6f + 1e-6f * Math.Abs(reference[i]));
        }
    }

    [Fact]
    public void The_reference_erfc_matches_known_values_across_both_branches()
    {
        // erfc from Python's math.erfc (float64): the series branch (|z| < 2) and the continued fraction (z ≥ 2).
        Assert.Equal(1.0, GeluErf.ErfcReference(0), 15);
        Assert.Equal(0.15729920705028513, GeluErf.ErfcReference(1), 14);
        Assert.Equal(1.0, GeluErf.ErfcReference(1.99) / 0.004888586800383003, 12);
        Assert.Equal(1.0, GeluErf.ErfcReference(3) / 2.2090496998585438e-05, 12);
        Assert.Equal(1.0, GeluErf.ErfcReference(5) / 1.5374597944280351e-12, 12);
        Assert.Equal(1.9999779095030015, GeluErf.ErfcReference(-3), 14);
    }

    [Fact]
    public void Kernels_reject_mismatched_lengths()
    {
        Assert.Throws<ArgumentException>(() => GeluErf.Forward(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => GeluErf.Backward(new float[3], new float[3], new float[2]));
    }
}
