namespace RewardKit.Tensors.Tests.Ops;

public class LogSigmoidTests
{
    // log σ(x) from PyTorch 1.13 (torch.nn.functional.logsigmoid, float64).
    [Theory]
    [InlineData(-1e4, -1e4)]
    [InlineData(-100, -100)]
    [InlineData(-20, -20.000000002061153)]
    [InlineData(-1, -1.3132616875182228)]
    [InlineData(0, -0.6931471805599453)]
    [InlineData(2, -0.12692801104297263)]
    [InlineData(20, -2.061153620314381e-09)]
    [InlineData(80, -1.8048513878454153e-35)]
    [InlineData(1e4, 0)]
    public void LogSigmoid_is_exact_for_large_magnitudes(double x, double expected)
    {
        var y = new Tape().LogSigmoid(Tensor.FromSpan([(float)x], 1))[0];
        Assert.False(float.IsNaN(y) || float.IsInfinity(y));
        Assert.Equal(expected, y, Math.Abs(expected) * 1e-6 + 1e-45);
    }

    [Fact]
    public void LogSigmoid_gradient_is_finite_at_plus_minus_1e4()
    {
        var x = Tensor.FromSpan([-1e4f, 1e4f], 2).RequireGrad();
        var t = new Tape();
        t.Backward(t.Sum(t.LogSigmoid(x)));
        Assert.Equal([1f, 0f], x.Grad.ToArray());
    }

    [Fact]
    public void LogSigmoid_gradient_matches_central_differences()
    {
        var x = GradCheck.Random(4, 3, 7);
        TensorPrimitivesScale(x, 4f);
        GradCheck.Check((t, xs) => t.LogSigmoid(xs[0]), [x]);
    }

    static void TensorPrimitivesScale(Tensor x, float c) => System.Numerics.Tensors.TensorPrimitives.Multiply(x.Data, c, x.Data);
}
