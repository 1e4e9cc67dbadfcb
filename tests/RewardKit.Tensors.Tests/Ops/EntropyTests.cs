using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Ops;

public class EntropyTests
{
    [Fact]
    public void EntropyFromLogits_is_minus_the_sum_of_p_log_p_of_each_row()
    {
        var logits = GradCheck.Random(1, 3, 6);
        var h = new Tape().EntropyFromLogits(logits);
        for (int i = 0; i < 3; i++)
        {
            double max = Enumerable.Range(0, 6).Max(j => (double)logits[i * 6 + j]);
            double z = Enumerable.Range(0, 6).Sum(j => Math.Exp(logits[i * 6 + j] - max));
            double expected = -Enumerable.Range(0, 6).Sum(j => { double p = Math.Exp(logits[i * 6 + j] - max) / z; return p * Math.Log(p); });
            Assert.Equal(expected, h[i], 5);
        }
    }

    [Fact]
    public void Uniform_logits_have_entropy_log_v_and_a_one_hot_row_has_none()
    {
        var logits = Tensor.FromSpan([0f, 0, 0, 0, 50, -50, -50, -50], 2, 4);
        var h = new Tape().EntropyFromLogits(logits);
        Assert.Equal(Math.Log(4), h[0], 5);
        Assert.Equal(0, h[1], 5);
    }

    [Fact]
    public void EntropyFromLogits_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.EntropyFromLogits(xs[0]), [GradCheck.Random(3, 4, 5)]);
    }

    [Fact]
    public void Rows_split_over_a_pool_give_bit_identical_entropies_and_gradients()
    {
        (float[] Values, float[] Grad) Run(WorkerPool pool)
        {
            var logits = GradCheck.Random(6, 17, 2049);
            var tape = new Tape(pool);
            var y = tape.EntropyFromLogits(logits);
            tape.Backward(y, Enumerable.Range(0, 17).Select(i => (float)(i % 4) - 1.5f).ToArray());
            return (y.ToArray(), logits.Grad.ToArray());
        }
        using var two = new WorkerPool(2);
        var single = Run(WorkerPool.Single);
        var split = Run(two);
        Assert.Equal(single.Values, split.Values);
        Assert.Equal(single.Grad, split.Grad);
    }
}
