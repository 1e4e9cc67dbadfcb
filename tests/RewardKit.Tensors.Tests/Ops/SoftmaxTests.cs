using RewardKit.Tensors;

namespace RewardKit.Tensors.Tests.Ops;

public class SoftmaxTests
{
    [Fact]
    public void Softmax_matches_hand_values_and_is_stable_for_large_logits()
    {
        var x = Tensor.FromSpan([1f, 2, 3, 1000, 1001, 1002], 2, 3);
        var y = new Tape().Softmax(x).ToArray();
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        for (int r = 0; r < 2; r++)
            for (int i = 0; i < 3; i++) Assert.Equal(Math.Exp(i + 1) / z, y[r * 3 + i], 6);
    }

    [Fact]
    public void LogSoftmax_matches_hand_values_and_is_stable_for_large_logits()
    {
        var x = Tensor.FromSpan([1f, 2, 3, -1000, -999, -998], 2, 3);
        var y = new Tape().LogSoftmax(x).ToArray();
        double lse = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        for (int r = 0; r < 2; r++)
            for (int i = 0; i < 3; i++) Assert.Equal(i + 1 - lse, y[r * 3 + i], 4);
    }

    [Fact]
    public void Softmax_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.Softmax(xs[0]), [GradCheck.Random(1, 2, 3, 5)]);
    }

    [Fact]
    public void LogSoftmax_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.LogSoftmax(xs[0]), [GradCheck.Random(2, 3, 6)]);
    }

    [Fact]
    public void A_scalar_input_names_the_op_and_shape()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tape().Softmax(Tensor.Scalar(1)));
        Assert.Contains("Softmax", ex.Message);
        Assert.Contains("()", ex.Message);
    }
}
