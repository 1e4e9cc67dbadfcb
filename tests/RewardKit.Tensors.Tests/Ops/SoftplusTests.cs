namespace RewardKit.Tensors.Tests.Ops;

public class SoftplusTests
{
    // softplus from PyTorch 1.13 in float64 (torch.nn.functional.softplus; at 1e4 torch overflows to inf, the exact value is 1e4).
    [Theory]
    [InlineData(-1e4, 0)]
    [InlineData(-80, 1.8048513878454153e-35)]
    [InlineData(-20, 2.061153620314381e-09)]
    [InlineData(-1, 0.31326168751822286)]
    [InlineData(0, 0.6931471805599453)]
    [InlineData(3, 3.048587351573742)]
    [InlineData(20, 20.000000002061153)]
    [InlineData(1e4, 1e4)]
    public void Softplus_is_exact_for_large_magnitudes(double x, double expected)
    {
        var y = new Tape().Softplus(Tensor.FromSpan([(float)x], 1))[0];
        Assert.False(float.IsNaN(y) || float.IsInfinity(y));
        Assert.Equal(expected, y, Math.Abs(expected) * 1e-6 + 1e-45);
    }

    [Fact]
    public void Softplus_of_minus_x_is_minus_log_sigmoid_of_x()
    {
        var x = Tensor.Normal(new Rng(5), 0, 10, 50);
        var t = new Tape();
        var a = t.Softplus(t.Neg(x));
        var b = t.LogSigmoid(x);
        for (int i = 0; i < x.Length; i++) Assert.Equal(-b[i], a[i]);
    }

    [Fact]
    public void Softplus_gradient_matches_central_differences()
    {
        var x = GradCheck.Random(6, 3, 7);
        System.Numerics.Tensors.TensorPrimitives.Multiply(x.Data, 4f, x.Data);
        GradCheck.Check((t, xs) => t.Softplus(xs[0]), [x]);
    }
}
