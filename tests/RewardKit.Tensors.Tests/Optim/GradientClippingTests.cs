using RewardKit.Tensors.Kernels;
using RewardKit.Tensors.Optim;

namespace RewardKit.Tensors.Tests.Optim;

public class GradientClippingTests
{
    [Fact]
    public void Clipping_returns_the_norm_before_clipping_and_scales_to_max_norm()
    {
        var builder = new ParameterSet.Builder();
        var a = builder.Add("a", [2]);
        var c = builder.Add("c", [1]);
        var set = builder.Build();
        a.Grad[0] = 3; a.Grad[1] = 0; c.Grad[0] = 4;
        Assert.Equal(5.0, GradientClipping.ClipGlobalNorm(set, 1.0), 6);
        Assert.Equal(0.6f, a.Grad[0], 5);
        Assert.Equal(0.8f, c.Grad[0], 5);
        Assert.Equal(1.0, GradientClipping.ClipGlobalNorm(set, 10.0), 5); // below the bound: untouched
        Assert.Equal(0.6f, a.Grad[0], 5);
        GradientClipping.AverageAccumulated(set, 4);
        Assert.Equal(0.15f, a.Grad[0], 5);
    }

    static ParameterSet Large(ulong seed)
    {
        var builder = new ParameterSet.Builder();
        builder.Add("w", [3 * 65536 + 4099]);   // several pieces plus a ragged one
        builder.Add("b", [17], weightDecay: false);
        var set = builder.Build();
        Tensor.Normal(new Rng(seed), 0, 1e-3f, set.Count).Data.CopyTo(set.Gradients);
        return set;
    }

    [Fact]
    public void The_norm_is_the_same_for_every_thread_count_and_close_to_a_plain_double_sum()
    {
        var set = Large(5);
        double single = GradientClipping.GlobalNorm(set.Gradients);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            Assert.Equal(single, GradientClipping.GlobalNorm(set.Gradients, pool));
        }
        double reference = GradientClipping.GlobalNormReference(set.Gradients);
        Assert.Equal(reference, single, 1e-12 * reference);
    }

    [Fact]
    public void Threaded_clipping_scales_exactly_like_single_threaded_clipping()
    {
        var a = Large(9);
        var b = Large(9);
        using var pool = new WorkerPool(2);
        double normA = GradientClipping.ClipGlobalNorm(a, 0.1);
        double normB = GradientClipping.ClipGlobalNorm(b, 0.1, pool);
        Assert.Equal(normA, normB);
        Assert.True(normA > 0.1);
        Assert.True(a.Gradients.SequenceEqual(b.Gradients));
        Assert.Equal(0.1, GradientClipping.GlobalNormReference(b.Gradients), 1e-6);
    }

    [Fact]
    public void A_non_finite_norm_leaves_the_gradients_untouched()
    {
        var set = Large(2);
        set.Gradients[70000] = float.PositiveInfinity;
        var before = set.Gradients.ToArray();
        Assert.True(double.IsPositiveInfinity(GradientClipping.ClipGlobalNorm(set, 1.0)));
        Assert.True(set.Gradients.SequenceEqual(before));
    }
}
