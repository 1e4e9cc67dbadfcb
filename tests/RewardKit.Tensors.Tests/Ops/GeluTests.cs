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
