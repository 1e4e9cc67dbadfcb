using RewardKit.Tensors;

namespace RewardKit.Tensors.Tests.Ops;

public class TanhTests
{
    [Fact]
    public void Tanh_matches_the_reference_values()
    {
        var x = Tensor.FromSpan([-2f, -0.5f, 0f, 0.5f, 2f], 5);
        var y = new Tape().Tanh(x).ToArray();
        for (int i = 0; i < 5; i++) Assert.Equal(Math.Tanh(x[i]), y[i], 6);
    }

    [Fact]
    public void Tanh_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.Tanh(xs[0]), [GradCheck.Random(1, 3, 7)]);
    }
}
