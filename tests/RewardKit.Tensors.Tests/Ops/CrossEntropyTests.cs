using RewardKit.Tensors;

namespace RewardKit.Tensors.Tests.Ops;

public class CrossEntropyTests
{
    [Fact]
    public void CrossEntropy_is_the_mean_negative_log_likelihood_over_kept_targets()
    {
        var logits = GradCheck.Random(1, 4, 5);
        int[] targets = [3, -100, 0, 4];
        var loss = new Tape().CrossEntropy(logits, targets).ToScalar();
        double expected = 0;
        foreach (int i in new[] { 0, 2, 3 })
        {
            double z = 0;
            for (int j = 0; j < 5; j++) z += Math.Exp(logits[i * 5 + j]);
            expected += Math.Log(z) - logits[i * 5 + targets[i]];
        }
        Assert.Equal(expected / 3, loss, 5);
    }

    [Fact]
    public void CrossEntropy_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.CrossEntropy(xs[0], [1, 7, 0], ignoreIndex: 7), [GradCheck.Random(2, 3, 4)]);
    }

    [Fact]
    public void CrossEntropy_is_zero_when_every_target_is_ignored()
    {
        var logits = GradCheck.Random(3, 2, 4);
        var tape = new Tape();
        var loss = tape.CrossEntropy(logits, [-100, -100]);
        Assert.Equal(0f, loss.ToScalar());
        tape.Backward(loss);
        Assert.All(logits.Grad.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Bad_targets_name_the_op_position_and_shape()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Tape().CrossEntropy(Tensor.Zeros(2, 4), [0, 4]));
        Assert.Contains("CrossEntropy", ex.Message);
        Assert.Contains("target 4 at position 1", ex.Message);
        Assert.Contains("(2, 4)", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => new Tape().CrossEntropy(Tensor.Zeros(2, 4), [0]));
        Assert.Contains("(2, 4)", ex2.Message);
    }
}
