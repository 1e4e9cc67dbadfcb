using RewardKit.Tensors.Kernels;
using RewardKit.Tensors.Optim;

namespace RewardKit.Tensors.Tests.Optim;

/// <summary>The vectorised, threaded Adam/AdamW step against the scalar reference on a set larger than several work pieces.</summary>
public class AdamFastPathTests
{
    // Odd sizes, alternating decay, a run of two decayed entries that merges into one group, > 3 pieces of 65536 in total.
    static ParameterSet Build()
    {
        var builder = new ParameterSet.Builder();
        builder.Add("a", [3, 67]);
        builder.Add("a.bias", [67], weightDecay: false);
        builder.Add("big", [129, 1031]);
        builder.Add("big2", [17, 33]);
        builder.Add("norm", [31], weightDecay: false);
        builder.Add("last", [64, 1025]);
        var set = builder.Build();
        Tensor.Normal(new Rng(3), 0, 1, set.Count).Data.CopyTo(set.Values);
        return set;
    }

    static void SetGradients(ParameterSet set, int t) => Tensor.Normal(new Rng(100 + (ulong)t), 0, 1, set.Count).Data.CopyTo(set.Gradients);

    public static TheoryData<int, bool> ThreadsAndRule() => new() { { 1, false }, { 2, false }, { 3, false }, { 1, true }, { 2, true }, { 3, true } };

    [Theory]
    [MemberData(nameof(ThreadsAndRule))]
    public void Fast_step_is_bit_identical_to_the_scalar_reference(int threads, bool classic)
    {
        using var pool = new WorkerPool(threads);
        var fastSet = Build();
        var referenceSet = Build();
        Assert.True(fastSet.Count > 3 * 65536);
        IOptimizer fast = classic ? new Adam(fastSet, 0.01, weightDecay: 0.1, pool: pool) : new AdamW(fastSet, 0.01, weightDecay: 0.1, pool: pool);
        IOptimizer reference = classic ? new Adam(referenceSet, 0.01, weightDecay: 0.1) : new AdamW(referenceSet, 0.01, weightDecay: 0.1);
        var start = fastSet.Values.ToArray();
        for (int t = 0; t < 3; t++)
        {
            SetGradients(fastSet, t);
            SetGradients(referenceSet, t);
            fast.Step();
            if (reference is Adam a) a.StepReference(); else ((AdamW)reference).StepReference();
            Assert.True(fastSet.Values.SequenceEqual(referenceSet.Values), $"step {t + 1} differs from the reference");
        }
        Assert.False(fastSet.Values.SequenceEqual(start));
        var fs = fast.SaveState();
        var rs = reference.SaveState();
        Assert.Equal(rs["exp_avg"], fs["exp_avg"]);
        Assert.Equal(rs["exp_avg_sq"], fs["exp_avg_sq"]);
    }

    [Fact]
    public void A_training_step_of_clipping_and_update_allocates_nothing()
    {
        var set = Build();
        var adamW = new AdamW(set, 0.01);
        var adam = new Adam(set, 0.01, weightDecay: 0.1);
        SetGradients(set, 0);
        GradientClipping.ClipGlobalNorm(set, 1.0); adamW.Step(); adam.Step();   // warm up (JIT, runner caches)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 5; t++) { GradientClipping.ClipGlobalNorm(set, 1.0); adamW.Step(); adam.Step(); }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
