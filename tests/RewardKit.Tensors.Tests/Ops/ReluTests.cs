namespace RewardKit.Tensors.Tests.Ops;

public class ReluTests
{
    [Fact]
    public void Relu_zeroes_negatives_and_its_gradient_is_zero_at_zero()
    {
        var x = Tensor.FromSpan([-2f, 0f, 3f], 3).RequireGrad();
        var t = new Tape();
        var y = t.Relu(x);
        Assert.Equal([0f, 0f, 3f], y.ToArray());
        t.Backward(t.Sum(y));
        Assert.Equal([0f, 0f, 1f], x.Grad.ToArray());
    }

    [Fact]
    public void Relu_gradient_matches_central_differences()
    {
        var x = GradCheck.Random(7, 3, 7);
        for (int i = 0; i < x.Length; i++) if (Math.Abs(x.Data[i]) < 0.05f) x.Data[i] = 0.5f; // keep away from the kink
        GradCheck.Check((t, xs) => t.Relu(xs[0]), [x]);
    }
}
