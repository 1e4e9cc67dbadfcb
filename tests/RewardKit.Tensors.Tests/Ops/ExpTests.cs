namespace RewardKit.Tensors.Tests.Ops;

public class ExpTests
{
    [Fact]
    public void Exp_matches_the_reference_values()
    {
        var x = Tensor.FromSpan([-3f, -0.5f, 0f, 1f, 4f], 5);
        var y = new Tape().Exp(x);
        for (int i = 0; i < x.Length; i++) Assert.Equal(Math.Exp(x[i]), y[i], 1e-5 * Math.Exp(x[i]));
    }

    [Fact]
    public void Exp_gradient_matches_central_differences() => GradCheck.Check((t, xs) => t.Exp(xs[0]), [GradCheck.Random(1, 3, 7)]);
}
