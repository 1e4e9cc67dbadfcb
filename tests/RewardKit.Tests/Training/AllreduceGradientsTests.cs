using RewardKit.Distributed;
using RewardKit.Tensors;
using RewardKit.Tests.Distributed;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

public class AllreduceGradientsTests
{
    static ParameterSet Parameters(params float[] gradients)
    {
        var builder = new ParameterSet.Builder();
        builder.Add("w", [gradients.Length]);
        var set = builder.Build();
        gradients.CopyTo(set.Gradients);
        return set;
    }

    [Fact]
    public void Gradients_loss_and_tokens_are_summed_over_the_ranks_the_gradients_in_one_Allreduce_of_the_whole_buffer()
    {
        var mirror = new MirrorCommunicator(rank: 1, size: 2);
        var reducer = new AllreduceGradients(mirror);
        var set = Parameters(1f, -2f, 0.5f);
        reducer.ReduceGradients(set);
        Assert.Equal([2f, -4f, 1f], set.Gradients.ToArray());
        Assert.Equal(1, mirror.Collectives);
        Assert.Equal(0.75, reducer.ReduceLoss(0.375));
        Assert.Equal(84L, reducer.ReduceTokens(42));
    }

    [Fact]
    public void In_one_process_nothing_changes()
    {
        var reducer = new AllreduceGradients(SingleProcessCommunicator.Instance);
        var set = Parameters(1f, -2f);
        reducer.ReduceGradients(set);
        Assert.Equal([1f, -2f], set.Gradients.ToArray());
        Assert.Equal(0.5, reducer.ReduceLoss(0.5));
        Assert.Equal(42L, reducer.ReduceTokens(42));
        Assert.Equal(TimeSpan.Zero, reducer.LastReduceTime);
    }
}
