using RewardKit.Tensors;

namespace RewardKit.Training.Losses;

/// <summary>Hinge preference loss: mean(max(0, m − (r_w − r_l))).</summary>
public static class Hinge
{
    /// <summary>The loss, shape (). <paramref name="chosen"/>, <paramref name="rejected"/> (N); margin m &gt; 0 (default 1).</summary>
    public static Tensor Loss(Tape tape, Tensor chosen, Tensor rejected, float margin = 1f)
    {
        Shapes.RequireEqual("Hinge.Loss", chosen, rejected);
        var delta = tape.Sub(chosen, rejected);
        return tape.Mean(tape.Relu(tape.AddScalar(tape.Scale(delta, -1f), margin)));   // max(0, m − Δ)
    }
}
