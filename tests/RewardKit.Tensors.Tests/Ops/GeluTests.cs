namespace RewardKit.Tensors.Tests.Ops;

public class GeluTests
{
    // gelu_new (HF transformers' NewGELUActivation) in PyTorch 1.13 float64.
    [Theory]
    [InlineData(-6, -8.43964897967453e-11)]
    [InlineData(-3, -0.0036373920817729943)]
    [InlineData(-1, -0.15880800939172324)]
    [InlineData(-0.25, -0.100324649298315)]
    [InlineData(0, 0)]
    [InlineData(0.5, 0.34571400982514394)]
    [InlineData(1, 0.8411919906082768)]
    [InlineData(3, 2.996362607918227)]
    public void Gelu_matches_the_gelu_new_reference(double x, double expected)
    {
        var y = new Tape().Gelu(Tensor.FromSpan([(float)x], 1))[0];
        Assert.Equal(expected, y, 1e-6);
    }

    [Fact]
    public void Gelu_is_finite_for_huge_inputs()
    {
        var y = new Tape().Gelu(Tensor.FromSpan([-1e4f, 1e4f, -1e30f], 3));
        Assert.Equal([0f, 1e4f, 0f], y.ToArray());
    }

    [Fact]
    public void Gelu_gradient_matches_central_differences() => GradCheck.Check((t, xs) => t.Gelu(xs[0]), [GradCheck.Random(8, 5, 7)]);
}

public class GeluErfTests
{
    // The exact GELU 0.5·x·erfc(−x/√2) and its derivative Φ(x) + x·φ(x), from Python's math.erf/erfc in float64.
    [Theory]
    [InlineData(-6, -5.919525870226207e-09, -3.5468709453902015e-08)]
    [InlineData(-3, -0.004049694094890287, -0.011945647204183927)]
    [InlineData(-1, -0.15865525393145707, -0.08331547058768629)]
    [InlineData(-0.25, -0.10032341857926907, 0.30462664511636395)]
    [InlineData(0, 0.0, 0.5)]
    [InlineData(0.5, 0.34573123063700656, 0.8674951246561629)]
    [InlineData(1, 0.8413447460685429, 1.0833154705876864)]
    [InlineData(3, 2.99595030590511, 1.011945647204184)]
    public void GeluErf_and_its_derivative_match_the_exact_gelu(double x, double expected, double slope)
    {
        var input = Tensor.FromSpan([(float)x], 1).RequireGrad();
        var tape = new Tape();
        var y = tape.GeluErf(input);
        Assert.Equal(expected, y[0], Math.Max(1e-7, Math.Abs(expected) * 3e-7));
        tape.Backward(y);
        Assert.Equal(slope, input.Grad[0], 1e-6);
    }

    [Fact]
    public void GeluErf_is_finite_for_huge_inputs()
    {
        var y = new Tape().GeluErf(Tensor.FromSpan([-1e4f, 1e4f, -1e30f, 1e30f], 4));
        Assert.Equal([0f, 1e4f, 0f, 1e30f], y.ToArray());
    }

    [Fact]
    public void GeluErf_gradient_matches_central_differences() => GradCheck.Check((t, xs) => t.GeluErf(xs[0]), [GradCheck.Random(8, 5, 7)]);
}
