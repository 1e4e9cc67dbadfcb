namespace RewardKit.Tensors.Tests.Ops;

public class ConcatTests
{
    [Fact]
    public void Concat_joins_along_an_axis_and_split_inverts_it()
    {
        var a = Tensor.FromSpan([1f, 2f, 3f, 4f], 2, 2);
        var b = Tensor.FromSpan([5f, 6f], 2, 1);
        var t = new Tape();
        var y = t.Concat([a, b], -1);
        Assert.Equal([2, 3], y.Shape);
        Assert.Equal([1f, 2f, 5f, 3f, 4f, 6f], y.ToArray());
        var parts = t.Split(y, [2, 1], 1);
        Assert.Equal(a.ToArray(), parts[0].ToArray());
        Assert.Equal(b.ToArray(), parts[1].ToArray());
        Assert.Contains("(2, 2)", Assert.Throws<ArgumentException>(() => t.Concat([a, Tensor.Zeros(3, 1)], 1)).Message);
        Assert.Throws<ArgumentException>(() => t.Split(y, [1, 1], 1));
    }

    [Fact]
    public void Concat_and_split_gradients_match_central_differences()
    {
        GradCheck.Check((t, xs) => t.Concat([xs[0], xs[1]], 1), [GradCheck.Random(1, 2, 3, 2), GradCheck.Random(2, 2, 1, 2)]);
        GradCheck.Check((t, xs) => t.Mul(t.Split(xs[0], [1, 2], 0)[1], t.Split(xs[0], [1, 2], 0)[0]), [GradCheck.Random(3, 3, 4)]);
    }
}
