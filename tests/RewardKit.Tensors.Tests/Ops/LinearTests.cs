using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Ops;

public class LinearTests
{
    static float[] Naive(Tensor x, Tensor w, Tensor? b, bool outIn)
    {
        int inF = x.Dim(-1), outF = outIn ? w.Shape[0] : w.Shape[1], rows = x.Length / inF;
        var y = new float[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = b is null ? 0 : b[o];
                for (int i = 0; i < inF; i++) s += x[r * inF + i] * (outIn ? w[o * inF + i] : w[i * outF + o]);
                y[r * outF + o] = (float)s;
            }
        return y;
    }

    [Fact]
    public void Linear_matches_a_naive_loop_with_leading_axes()
    {
        var x = GradCheck.Random(1, 2, 3, 5);
        var w = GradCheck.Random(2, 4, 5);
        var b = GradCheck.Random(3, 4);
        var y = new Tape().Linear(x, w, b);
        Assert.Equal([2, 3, 4], y.Shape);
        var expected = Naive(x, w, b, true);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], y[i], 4);
    }

    [Fact]
    public void Conv1D_matches_a_naive_loop_without_bias()
    {
        var x = GradCheck.Random(1, 3, 5);
        var w = GradCheck.Random(2, 5, 4);
        var y = new Tape().Conv1D(x, w, null);
        Assert.Equal([3, 4], y.Shape);
        var expected = Naive(x, w, null, false);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], y[i], 4);
    }

    [Fact]
    public void Linear_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.Linear(xs[0], xs[1], xs[2]),
            [GradCheck.Random(1, 2, 3, 5), GradCheck.Random(2, 4, 5), GradCheck.Random(3, 4)]);
    }

    [Fact]
    public void Linear_without_bias_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.Linear(xs[0], xs[1], null), [GradCheck.Random(1, 3, 5), GradCheck.Random(2, 4, 5)]);
    }

    [Fact]
    public void Conv1D_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.Conv1D(xs[0], xs[1], xs[2]),
            [GradCheck.Random(1, 2, 3, 5), GradCheck.Random(2, 5, 4), GradCheck.Random(3, 4)]);
    }

    [Fact]
    public void Conv1DGelu_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.Conv1DGelu(xs[0], xs[1], xs[2]),
            [GradCheck.Random(1, 2, 3, 5), GradCheck.Random(2, 5, 4), GradCheck.Random(3, 4)]);
    }

    /// <summary>Runs <paramref name="f"/> on fresh copies of x, w, b and back-propagates fixed weights; returns y, dx, dw, db.</summary>
    static float[][] ValuesAndGradients(WorkerPool pool, int rows, int inF, int outF, Func<Tape, Tensor, Tensor, Tensor, Tensor> f)
    {
        var x = GradCheck.Random(11, rows, inF);
        var w = Tensor.Normal(new Rng(12), 0, 0.5f, inF, outF).RequireGrad();
        var b = GradCheck.Random(13, outF);
        var tape = new Tape(pool);
        var y = f(tape, x, w, b);
        tape.Backward(y, Tensor.Normal(new Rng(14), 0, 1, rows, outF).Data);
        return [y.ToArray(), x.Grad.ToArray(), w.Grad.ToArray(), b.Grad.ToArray()];
    }

    [Theory]
    [InlineData(1, 3, 7)]
    [InlineData(17, 31, 33)]
    [InlineData(67, 64, 129)]   // 8643 outputs: one thread
    [InlineData(1031, 7, 1031)] // 1.06M outputs, above Elementwise.ParallelThreshold: split across the pool
    public void Conv1DGelu_equals_Gelu_of_Conv1D_in_values_and_gradients(int rows, int inF, int outF)
    {
        using var two = new WorkerPool(2);
        foreach (var pool in new[] { WorkerPool.Single, two })
        {
            var fused = ValuesAndGradients(pool, rows, inF, outF, (t, x, w, b) => t.Conv1DGelu(x, w, b));
            var composed = ValuesAndGradients(pool, rows, inF, outF, (t, x, w, b) => t.Gelu(t.Conv1D(x, w, b)));
            // The same formulas; only which elements take the scalar or the vector exp differs (rows vs the flat tensor).
            for (int k = 0; k < fused.Length; k++)
                for (int i = 0; i < fused[k].Length; i++)
                    Assert.Equal(composed[k][i], fused[k][i], 1e-5f * Math.Max(1f, Math.Abs(composed[k][i])));
        }
    }

    [Fact]
    public void Linear_and_Conv1DGelu_are_identical_on_one_and_two_threads()
    {
        using var two = new WorkerPool(2);
        foreach (var f in new Func<Tape, Tensor, Tensor, Tensor, Tensor>[] { (t, x, w, b) => t.Conv1DGelu(x, w, b), (t, x, w, b) => t.Conv1D(x, w, b) })
        {
            var one = ValuesAndGradients(WorkerPool.Single, 1031, 7, 1031, f);
            var many = ValuesAndGradients(two, 1031, 7, 1031, f);
            Assert.Equal(one[0], many[0]);
            Assert.Equal(one[3], many[3]); // bias gradients: column sums in row order whatever the thread count
        }
    }

    [Fact]
    public void Linear_shape_mismatch_names_the_op_and_shapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tape().Linear(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5), null));
        Assert.Contains("Linear", ex.Message);
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("(4, 5)", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => new Tape().Conv1D(Tensor.Zeros(2, 3), Tensor.Zeros(3, 4), Tensor.Zeros(5)));
        Assert.Contains("Conv1D", ex2.Message);
        Assert.Contains("(5)", ex2.Message);
        var ex3 = Assert.Throws<ArgumentException>(() => new Tape().Conv1DGelu(Tensor.Zeros(2, 3), Tensor.Zeros(4, 4), Tensor.Zeros(4)));
        Assert.Contains("Conv1DGelu", ex3.Message);
    }
}
