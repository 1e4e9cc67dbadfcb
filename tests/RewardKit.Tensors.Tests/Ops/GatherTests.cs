using RewardKit.Tensors;

namespace RewardKit.Tensors.Tests.Ops;

public class GatherTests
{
    [Fact]
    public void GatherRows_copies_the_indexed_rows()
    {
        var x = Tensor.FromSpan([0f, 1, 10, 11, 20, 21], 3, 2);
        var y = new Tape().GatherRows(x, [2, 2, 0]);
        Assert.Equal([3, 2], y.Shape);
        Assert.Equal([20f, 21, 20, 21, 0, 1], y.ToArray());
    }

    [Fact]
    public void GatherRows_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.GatherRows(xs[0], [3, 0, 3]), [GradCheck.Random(1, 4, 2, 3)]);
    }

    [Fact]
    public void GatherRows_backward_scatter_adds_repeated_rows()
    {
        var x = GradCheck.Random(1, 3, 2);
        var tape = new Tape();
        var y = tape.GatherRows(x, [1, 1]);
        tape.Backward(y, [1f, 2, 3, 4]);
        Assert.Equal([0f, 0, 4, 6, 0, 0], x.Grad.ToArray());
    }

    [Fact]
    public void Index_out_of_range_names_its_position_and_the_shape()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Tape().GatherRows(Tensor.Zeros(3, 2), [0, 3]));
        Assert.Contains("GatherRows", ex.Message);
        Assert.Contains("index 3 at position 1", ex.Message);
        Assert.Contains("(3, 2)", ex.Message);
    }
}
