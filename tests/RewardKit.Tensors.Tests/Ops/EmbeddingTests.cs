using RewardKit.Tensors;

namespace RewardKit.Tensors.Tests.Ops;

public class EmbeddingTests
{
    [Fact]
    public void Embedding_copies_the_rows_of_the_ids()
    {
        var w = Tensor.FromSpan([0f, 1, 10, 11, 20, 21], 3, 2);
        var y = new Tape().Embedding(w, [2, 0, 2, 1], [2, 2]);
        Assert.Equal([2, 2, 2], y.Shape);
        Assert.Equal([20f, 21, 0, 1, 20, 21, 10, 11], y.ToArray());
    }

    [Fact]
    public void Embedding_backward_scatter_adds_repeated_ids()
    {
        var w = GradCheck.Random(1, 4, 3);
        var tape = new Tape();
        var y = tape.Embedding(w, [1, 3, 1], [3]);
        tape.Backward(y, [1f, 2, 3, 4, 5, 6, 7, 8, 9]);
        Assert.Equal([0f, 0, 0, 8, 10, 12, 0, 0, 0, 4, 5, 6], w.Grad.ToArray());
    }

    [Fact]
    public void Embedding_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.Embedding(xs[0], [0, 2, 2, 1, 0, 4], [2, 3]), [GradCheck.Random(1, 5, 3)]);
    }

    [Fact]
    public void Id_out_of_range_names_its_position()
    {
        var w = Tensor.Zeros(5, 3);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Tape().Embedding(w, [0, 1, 2, 7], [2, 2]));
        Assert.Contains("Embedding", ex.Message);
        Assert.Contains("id 7 at position [1, 1]", ex.Message);
        Assert.Contains("[0, 5)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Tape().Embedding(w, [-1], [1]));
    }

    [Fact]
    public void Ids_that_do_not_fill_the_shape_are_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tape().Embedding(Tensor.Zeros(5, 3), [0, 1, 2], [2, 2]));
        Assert.Contains("Embedding", ex.Message);
        Assert.Contains("(2, 2)", ex.Message);
    }
}
