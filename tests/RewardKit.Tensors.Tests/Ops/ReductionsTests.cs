using FsCheck;
using FsCheck.Fluent;

namespace RewardKit.Tensors.Tests.Ops;

public class ReductionsTests
{
    static readonly float[] Values = [1, -2, 3, 4, 5, -6];

    [Fact]
    public void Sum_and_mean_match_hand_computed_values()
    {
        var x = Tensor.FromSpan(Values, 2, 3);
        var t = new Tape();
        Assert.Equal(5f, t.Sum(x).ToScalar());
        Assert.Empty(t.Sum(x).Shape);
        Assert.Equal(5f / 6, t.Mean(x).ToScalar(), 6);
        Assert.Equal([5f, 3f, -3f], t.Sum(x, 0).ToArray());
        Assert.Equal([2f, 3f], t.Sum(x, -1).ToArray());
        Assert.Equal([1, 3], t.Sum(x, 0, keepDim: true).Shape);
        Assert.Equal([2f / 3, 1f], t.Mean(x, 1).ToArray());
    }

    [Fact]
    public void Max_takes_the_maximum_and_routes_the_gradient_to_the_first_maximal_element()
    {
        var x = Tensor.FromSpan([3, 1, 3, 2, 7, 7], 2, 3).RequireGrad();
        var t = new Tape();
        var m = t.Max(x, 1);
        Assert.Equal([3f, 7f], m.ToArray());
        t.Backward(t.Sum(m));
        Assert.Equal([1f, 0, 0, 0, 1, 0], x.Grad.ToArray());
        Assert.Equal([3f, 7f, 7f], new Tape().Max(x, 0).ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Axis_reductions_have_gradients_matching_central_differences(int axis)
    {
        GradCheck.Check((t, xs) => t.Sum(xs[0], axis), [GradCheck.Random(1, 2, 3, 4)]);
        GradCheck.Check((t, xs) => t.Mean(xs[0], axis, keepDim: true), [GradCheck.Random(2, 2, 3, 4)]);
        GradCheck.Check((t, xs) => t.Max(xs[0], axis), [Spaced(3, 2, 3, 4)]);
    }

    /// <summary>Distinct values 0.1 apart in random order, so a ±eps perturbation never changes which element is maximal.</summary>
    static Tensor Spaced(ulong seed, params int[] shape)
    {
        var order = Enumerable.Range(0, Shapes.Product(shape)).ToArray();
        new Rng(seed).Shuffle<int>(order);
        return Tensor.FromArray(order.Select(i => 0.1f * i - 1f).ToArray(), shape).RequireGrad();
    }

    [Fact]
    public void Full_reductions_have_gradients_matching_central_differences()
    {
        GradCheck.Check((t, xs) => t.Sum(xs[0]), [GradCheck.Random(4, 3, 5)]);
        GradCheck.Check((t, xs) => t.Mean(xs[0]), [GradCheck.Random(5, 3, 5)]);
    }

    [Fact]
    public void A_bad_axis_throws_naming_the_op_and_the_shape()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tape().Sum(Tensor.Zeros(2, 3), 2));
        Assert.Contains("Sum", ex.Message);
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Throws<ArgumentException>(() => new Tape().Max(Tensor.Zeros(2, 0), 1));
    }

    [Fact]
    public void Property_summing_over_an_axis_then_everything_equals_summing_everything()
    {
        var gen =
            from rank in Gen.Choose(1, 4)
            from dims in Gen.ArrayOf(Gen.Choose(1, 5), rank)
            from axis in Gen.Choose(-rank, rank - 1)
            from seed in Gen.Choose(0, 1000)
            select (dims, axis, seed);
        var prop = Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var x = Tensor.Normal(new Rng((ulong)c.seed), 0, 1, c.dims);
            var t = new Tape();
            float all = t.Sum(x).ToScalar();
            float viaAxis = t.Sum(t.Sum(x, c.axis)).ToScalar();
            float viaMax = t.Sum(t.Max(x, c.axis, keepDim: true)).ToScalar();
            float naiveMax = 0;
            var reduced = t.Max(x, c.axis);
            // Max over an axis is at least the mean over it, element by element.
            var mean = t.Mean(x, c.axis);
            for (int i = 0; i < reduced.Length; i++) if (reduced[i] < mean[i] - 1e-5f) return false;
            naiveMax = reduced.ToArray().Sum();
            return Math.Abs(all - viaAxis) < 1e-4 * (1 + Math.Abs(all)) && Math.Abs(viaMax - naiveMax) < 1e-4;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), prop);
    }
}
