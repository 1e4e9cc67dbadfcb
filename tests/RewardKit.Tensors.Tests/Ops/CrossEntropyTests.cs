using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

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
    public void Rows_split_over_a_pool_give_bit_identical_loss_and_gradient_and_match_a_double_reference()
    {
        // A vocabulary-sized case (the LM warm start's shape, smaller): every row's exp/sum is done by one thread, so the
        // pool must not change a bit; and the float kernels agree with a float64 log-sum-exp to float rounding.
        const int n = 37, v = 2317;
        var targets = Enumerable.Range(0, n).Select(i => i % 5 == 0 ? -100 : (i * 131) % v).ToArray();
        (float Loss, float[] Grad) Run(WorkerPool pool)
        {
            var logits = GradCheck.Random(9, n, v);
            var tape = new Tape(pool);
            var loss = tape.CrossEntropy(logits, targets);
            tape.Backward(loss);
            return (loss.ToScalar(), logits.Grad.ToArray());
        }
        using var two = new WorkerPool(2);
        var (single, singleGrad) = Run(WorkerPool.Single);
        var (split, splitGrad) = Run(two);
        Assert.Equal(single, split);
        Assert.Equal(singleGrad, splitGrad);

        var x = GradCheck.Random(9, n, v);
        double total = 0;
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            if (targets[i] == -100) continue;
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < v; j++) max = Math.Max(max, x[i * v + j]);
            for (int j = 0; j < v; j++) sum += Math.Exp(x[i * v + j] - max);
            total += max + Math.Log(sum) - x[i * v + targets[i]];
            kept++;
        }
        Assert.Equal(total / kept, single, 4);
        double expectedGrad = Math.Exp(x[1 * v + 5] - (Math.Log(Enumerable.Range(0, v).Sum(j => Math.Exp(x[v + j])))) ) / kept;
        Assert.Equal(expectedGrad, singleGrad[1 * v + 5], 6);   // row 1 targets 131, so entry 5 is softmax / count
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
