using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Ops;

public class LayerNormTests
{
    [Fact]
    public void LayerNorm_matches_a_naive_loop()
    {
        var x = GradCheck.Random(1, 2, 3, 6);
        var w = GradCheck.Random(2, 6);
        var b = GradCheck.Random(3, 6);
        var y = new Tape().LayerNorm(x, w, b, 1e-5f);
        Assert.Equal(x.Shape, y.Shape);
        for (int r = 0; r < 6; r++)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < 6; i++) mean += x[r * 6 + i];
            mean /= 6;
            for (int i = 0; i < 6; i++) variance += (x[r * 6 + i] - mean) * (x[r * 6 + i] - mean);
            variance /= 6;
            for (int i = 0; i < 6; i++)
                Assert.Equal((x[r * 6 + i] - mean) / Math.Sqrt(variance + 1e-5) * w[i] + b[i], y[r * 6 + i], 4);
        }
    }

    [Fact]
    public void LayerNorm_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.LayerNorm(xs[0], xs[1], xs[2]),
            [GradCheck.Random(1, 2, 3, 5), GradCheck.Random(2, 5), GradCheck.Random(3, 5)], eps: 1e-2, tolerance: 1e-3);
    }

    [Theory]
    [InlineData(7, 9)]       // on the caller
    [InlineData(1031, 1031)] // above Elementwise.ParallelThreshold: split across the pool
    public void LayerNorm_is_identical_on_one_and_two_threads(int rows, int c)
    {
        float[] Run(WorkerPool pool, out float[] dx, out float[] dw)
        {
            var x = GradCheck.Random(1, rows, c);
            var w = GradCheck.Random(2, c);
            var b = GradCheck.Random(3, c);
            var tape = new Tape(pool);
            var y = tape.LayerNorm(x, w, b);
            tape.Backward(y, GradCheck.Random(4, rows, c).Data);
            dx = x.Grad.ToArray();
            dw = w.Grad.ToArray();
            return y.ToArray();
        }
        using var two = new WorkerPool(2);
        var y1 = Run(WorkerPool.Single, out var dx1, out var dw1);
        var y2 = Run(two, out var dx2, out var dw2);
        Assert.Equal(y1, y2);
        Assert.Equal(dx1, dx2);
        for (int i = 0; i < dw1.Length; i++) Assert.Equal(dw1[i], dw2[i], 1e-6f * rows * Math.Max(1f, Math.Abs(dw1[i]))); // per-thread partial sums over the rows, in another order
    }

    [Fact]
    public void Shape_mismatch_names_the_op_and_shapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tape().LayerNorm(Tensor.Zeros(2, 4), Tensor.Zeros(3), Tensor.Zeros(4)));
        Assert.Contains("LayerNorm", ex.Message);
        Assert.Contains("(2, 4) and (3)", ex.Message);
    }
}
