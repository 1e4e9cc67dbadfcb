namespace RewardKit.Tensors.Tests;

public class TapeTests
{
    static (Tape Tape, Tensor W, Tensor Hidden, Tensor Loss) Record(bool releases)
    {
        var w = Tensor.FromArray([0.5f, -1f, 2f, 0.25f, 1.5f, -0.75f], 2, 3).RequireGrad();
        var x = Tensor.FromArray([1f, 2f, -1f, 0.5f, 3f, -2f, 1f, 1f], 4, 2);
        var tape = new Tape { ReleasesIntermediates = releases };
        var hidden = tape.Tanh(tape.MatMul(x, w));                          // (4, 3)
        var loss = tape.Mean(tape.Mul(hidden, tape.Gelu(hidden)));          // hidden has two consumers
        return (tape, w, hidden, loss);
    }

    [Fact]
    public void Releasing_intermediate_gradients_leaves_the_parameter_gradients_bit_identical()
    {
        var (keep, wKeep, _, lossKeep) = Record(releases: false);
        keep.Backward(lossKeep);
        var (release, wRelease, _, lossRelease) = Record(releases: true);
        release.Backward(lossRelease);
        Assert.Equal(wKeep.Grad.ToArray(), wRelease.Grad.ToArray());
    }

    [Fact]
    public void A_released_intermediate_gradient_cannot_be_read_and_a_kept_one_can()
    {
        var (keep, _, hiddenKept, lossKeep) = Record(releases: false);
        keep.Backward(lossKeep);
        Assert.True(hiddenKept.HasGrad);
        Assert.NotEqual(0f, hiddenKept.Grad[0]);

        var (release, w, hidden, loss) = Record(releases: true);
        release.Backward(loss);
        Assert.False(hidden.HasGrad);
        Assert.Contains("ReleasesIntermediates", Assert.Throws<InvalidOperationException>(() => hidden.Grad[0]).Message);
        Assert.True(w.HasGrad);                                             // a leaf keeps its gradient
    }

    [Fact]
    public void A_second_backward_over_released_intermediates_is_refused_until_the_tape_is_reset()
    {
        var (tape, _, _, loss) = Record(releases: true);
        tape.Backward(loss);
        Assert.Contains("already released", Assert.Throws<InvalidOperationException>(() => tape.Backward(loss)).Message);
        tape.Reset();
        var w = Tensor.FromArray([1f, 2f], 2).RequireGrad();
        tape.Backward(tape.Sum(tape.Mul(w, w)));
        Assert.Equal([2f, 4f], w.Grad.ToArray());
    }

    [Fact]
    public void Reset_collects_generation_0_once_a_step_has_left_more_garbage_than_the_budget()
    {
        var tape = new Tape { GarbageBudgetBytes = 1 << 20 };
        tape.Reset();                                           // takes the baseline
        int before = GC.CollectionCount(0);
        GC.KeepAlive(new byte[2 << 20]);                        // a step's garbage, over the budget
        tape.Reset();
        Assert.True(GC.CollectionCount(0) > before);
    }
}
