namespace RewardKit.Tensors.Tests.Ops;

public class LogTests
{
    [Fact]
    public void Log_matches_the_reference_values_and_is_minus_infinity_at_zero()
    {
        var x = Tensor.FromSpan([0.001f, 0.5f, 1f, 2.5f, 1e6f, 0f], 6);
        var y = new Tape().Log(x);
        for (int i = 0; i < 5; i++) Assert.Equal(Math.Log(x[i]), y[i], 5);
        Assert.Equal(float.NegativeInfinity, y[5]);
    }

    [Fact]
    public void Log_gradient_matches_central_differences()
    {
        var x = GradCheck.Random(2, 3, 7);
        for (int i = 0; i < x.Length; i++) x.Data[i] = 0.5f + Math.Abs(x.Data[i]);
        GradCheck.Check((t, xs) => t.Log(xs[0]), [x]);
    }
}
