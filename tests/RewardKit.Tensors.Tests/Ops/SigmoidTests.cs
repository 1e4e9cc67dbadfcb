namespace RewardKit.Tensors.Tests.Ops;

public class SigmoidTests
{
    [Fact]
    public void Sigmoid_matches_the_reference_values_and_saturates_without_nan_at_plus_minus_1e4()
    {
        var x = Tensor.FromSpan([-1e4f, -30f, -2f, 0f, 0.5f, 30f, 1e4f], 7);
        var y = new Tape().Sigmoid(x);
        for (int i = 0; i < x.Length; i++) Assert.Equal(1 / (1 + Math.Exp(-(double)x[i])), y[i], 6);
        Assert.Equal(0f, y[0]);
        Assert.Equal(1f, y[6]);
    }

    [Fact]
    public void Sigmoid_gradient_matches_central_differences() => GradCheck.Check((t, xs) => t.Sigmoid(xs[0]), [GradCheck.Random(3, 3, 7)]);
}
