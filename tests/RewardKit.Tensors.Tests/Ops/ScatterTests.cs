using RewardKit.Tensors;

namespace RewardKit.Tensors.Tests.Ops;

public class ScatterTests
{
    [Fact]
    public void ScatterRows_places_rows_at_their_indices_and_zeros_elsewhere()
    {
        var x = Tensor.FromSpan([1f, 2, 3, 4, 5, 6], 3, 2);
        var y = new Tape().ScatterRows(x, [3, 0, 3], rows: 5);
        Assert.Equal([5, 2], y.Shape);
        Assert.Equal([3f, 4, 0, 0, 0, 0, 6, 8, 0, 0], y.ToArray());
    }

    [Fact]
    public void ScatterRows_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.ScatterRows(xs[0], [4, 1, 2], rows: 6), [GradCheck.Random(1, 3, 2)]);
    }

    [Fact]
    public void ScatterRows_undoes_GatherRows_on_the_gathered_rows()
    {
        var x = GradCheck.Random(2, 6, 3);
        var tape = new Tape();
        var back = tape.ScatterRows(tape.GatherRows(x, [5, 2, 0]), [5, 2, 0], rows: 6);
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 3; c++)
                Assert.Equal(r is 5 or 2 or 0 ? x[r * 3 + c] : 0f, back[r * 3 + c]);
    }

    [Fact]
    public void Index_out_of_range_names_its_position()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Tape().ScatterRows(Tensor.Zeros(2, 2), [0, 3], rows: 3));
        Assert.Contains("ScatterRows", ex.Message);
        Assert.Contains("index 3 at position 1", ex.Message);
    }
}
