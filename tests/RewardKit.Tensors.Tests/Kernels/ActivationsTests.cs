using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Kernels;

public class ActivationsTests
{
    public static TheoryData<Activations.Width> Widths()
    {
        var data = new TheoryData<Activations.Width> { Activations.Width.Scalar };
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) data.Add(Activations.Width.Vector256);
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) data.Add(Activations.Width.Vector512);
        return data;
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Gelu_forward_matches_the_reference_at_every_length_0_to_67(Activations.Width width)
    {
        for (int n = 0; n <= 67; n++)
        {
            var x = Tensor.Normal(new Rng((ulong)n), 0, 3, n).ToArray();
            var fast = new float[n];
            var reference = new float[n];
            Activations.GeluForward(x, fast, width);
            Activations.GeluForwardReference(x, reference);
            for (int i = 0; i < n; i++) Assert.Equal(reference[i], fast[i], 2e-6f + 2e-6f * Math.Abs(reference[i]));
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Gelu_backward_matches_the_reference_at_every_length_0_to_67(Activations.Width width)
    {
        for (int n = 0; n <= 67; n++)
        {
            var rng = new Rng(100 + (ulong)n);
            var x = Tensor.Normal(rng, 0, 3, n).ToArray();
            var dy = Tensor.Normal(rng, 0, 1, n).ToArray();
            var fast = Enumerable.Repeat(0.25f, n).ToArray();
            var reference = Enumerable.Repeat(0.25f, n).ToArray();
            Activations.GeluBackward(x, dy, fast, width);
            Activations.GeluBackwardReference(x, dy, reference);
            for (int i = 0; i < n; i++) Assert.Equal(reference[i], fast[i], 1e-5f + 1e-5f * Math.Abs(reference[i]));
        }
    }

    [Fact]
    public void Gelu_kernels_reject_mismatched_lengths()
    {
        Assert.Throws<ArgumentException>(() => Activations.GeluForward(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => Activations.GeluBackward(new float[3], new float[3], new float[2]));
    }

    [Fact]
    public void Log1p_keeps_tiny_arguments()
    {
        Assert.Equal(1e-20, Activations.Log1p(1e-20));
        Assert.Equal(Math.Log(2.5), Activations.Log1p(1.5), 15);
    }
}
