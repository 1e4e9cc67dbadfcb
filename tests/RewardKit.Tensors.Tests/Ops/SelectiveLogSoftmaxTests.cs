using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Ops;

public class SelectiveLogSoftmaxTests
{
    [Fact]
    public void SelectiveLogSoftmax_is_the_log_softmax_at_each_rows_target()
    {
        var logits = GradCheck.Random(1, 4, 7);
        int[] targets = [3, 0, 6, 3];
        var y = new Tape().SelectiveLogSoftmax(logits, targets);
        Assert.Equal([4], y.Shape);
        var full = new Tape().LogSoftmax(logits);
        for (int i = 0; i < 4; i++) Assert.Equal(full[i * 7 + targets[i]], y[i], 5);
    }

    [Fact]
    public void SelectiveLogSoftmax_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.SelectiveLogSoftmax(xs[0], [2, 0, 4]), [GradCheck.Random(2, 3, 5)]);
    }

    [Fact]
    public void Rows_split_over_a_pool_give_bit_identical_values_and_gradients_and_match_a_double_reference()
    {
        const int n = 29, v = 3001;
        var targets = Enumerable.Range(0, n).Select(i => (i * 977) % v).ToArray();
        (float[] Values, float[] Grad) Run(WorkerPool pool)
        {
            var logits = GradCheck.Random(4, n, v);
            var tape = new Tape(pool);
            var y = tape.SelectiveLogSoftmax(logits, targets);
            tape.Backward(y, Enumerable.Range(0, n).Select(i => (float)(i % 3 - 1)).ToArray());
            return (y.ToArray(), logits.Grad.ToArray());
        }
        using var two = new WorkerPool(2);
        var single = Run(WorkerPool.Single);
        var split = Run(two);
        Assert.Equal(single.Values, split.Values);
        Assert.Equal(single.Grad, split.Grad);

        var x = GradCheck.Random(4, n, v);
        for (int i = 0; i < n; i++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < v; j++) max = Math.Max(max, x[i * v + j]);
            for (int j = 0; j < v; j++) sum += Math.Exp(x[i * v + j] - max);
            Assert.InRange(single.Values[i] - (x[i * v + targets[i]] - max - Math.Log(sum)), -1e-4, 1e-4);
        }
    }

    [Fact]
    public void Bad_targets_name_the_op_position_and_shape()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Tape().SelectiveLogSoftmax(Tensor.Zeros(2, 4), [0, 4]));
        Assert.Contains("SelectiveLogSoftmax", ex.Message);
        Assert.Contains("target 4 at position 1", ex.Message);
        Assert.Throws<ArgumentException>(() => new Tape().SelectiveLogSoftmax(Tensor.Zeros(2, 4), [0]));
    }
}
