namespace RewardKit.Tensors.Tests.Ops;

public class ClampTests
{
    [Fact]
    public void Clamp_clamps_and_passes_the_gradient_only_inside()
    {
        var x = Tensor.FromSpan([-2f, -0.5f, 0.5f, 2f], 4).RequireGrad();
        var t = new Tape();
        var y = t.Clamp(x, -1, 1);
        Assert.Equal([-1f, -0.5f, 0.5f, 1f], y.ToArray());
        t.Backward(t.Sum(y));
        Assert.Equal([0f, 1f, 1f, 0f], x.Grad.ToArray());
        Assert.Throws<ArgumentException>(() => new Tape().Clamp(x, 1, -1));
    }
}

public class MinMaxTests
{
    [Fact]
    public void Minimum_and_maximum_broadcast_and_split_ties_evenly()
    {
        var a = Tensor.FromSpan([1f, 5f, 3f], 3).RequireGrad();
        var b = Tensor.FromSpan([3f], 1).RequireGrad();
        var t = new Tape();
        var lo = t.Minimum(a, b);
        Assert.Equal([1f, 3f, 3f], lo.ToArray());
        t.Backward(t.Sum(lo));
        Assert.Equal([1f, 0f, 0.5f], a.Grad.ToArray());
        Assert.Equal([1.5f], b.Grad.ToArray());
        Assert.Equal([3f, 5f, 3f], new Tape().Maximum(a, b).ToArray());
    }

    [Fact]
    public void Minimum_and_maximum_gradients_match_central_differences()
    {
        GradCheck.Check((t, xs) => t.Minimum(xs[0], xs[1]), [GradCheck.Random(1, 2, 3), GradCheck.Random(2, 3)]);
        GradCheck.Check((t, xs) => t.Maximum(xs[0], xs[1]), [GradCheck.Random(3, 2, 1), GradCheck.Random(4, 2, 3)]);
    }
}

public class WhereTests
{
    [Fact]
    public void Where_selects_by_the_condition_and_its_gradients_match_central_differences()
    {
        var c = Tensor.FromSpan([1f, 0f, 1f], 3);
        var y = new Tape().Where(c, Tensor.FromSpan([1f, 2f, 3f], 3), Tensor.Full(-1f, 2, 1));
        Assert.Equal([2, 3], y.Shape);
        Assert.Equal([1f, -1f, 3f, 1f, -1f, 3f], y.ToArray());
        GradCheck.Check((t, xs) => t.Where(c, xs[0], xs[1]), [GradCheck.Random(5, 2, 3), GradCheck.Random(6, 2, 1)]);
        Assert.Contains("Where", Assert.Throws<ArgumentException>(() => new Tape().Where(c, Tensor.Zeros(4), Tensor.Zeros(3))).Message);
    }
}

public class DropoutTests
{
    [Fact]
    public void Dropout_zeroes_about_p_scales_the_rest_and_is_seeded()
    {
        var x = Tensor.Ones(10000);
        var y1 = new Tape().Dropout(x, 0.25f, new Rng(1)).ToArray();
        var y2 = new Tape().Dropout(x, 0.25f, new Rng(1)).ToArray();
        Assert.Equal(y1, y2);
        int zeros = y1.Count(v => v == 0);
        Assert.InRange(zeros, 2300, 2700);
        Assert.All(y1.Where(v => v != 0), v => Assert.Equal(1f / 0.75f, v, 6));
        Assert.Same(x, new Tape().Dropout(x, 0, new Rng(1)));
        GradCheck.Check((t, xs) => t.Dropout(xs[0], 0.3f, new Rng(9)), [GradCheck.Random(7, 4, 5)]);
    }
}
