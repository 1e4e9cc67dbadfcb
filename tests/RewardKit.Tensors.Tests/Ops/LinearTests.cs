using RewardKit.Tensors;

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
    public void Linear_shape_mismatch_names_the_op_and_shapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tape().Linear(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5), null));
        Assert.Contains("Linear", ex.Message);
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("(4, 5)", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => new Tape().Conv1D(Tensor.Zeros(2, 3), Tensor.Zeros(3, 4), Tensor.Zeros(5)));
        Assert.Contains("Conv1D", ex2.Message);
        Assert.Contains("(5)", ex2.Message);
    }
}
