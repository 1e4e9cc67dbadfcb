using RewardKit.Tensors;

namespace RewardKit.Training.Losses;

/// <summary>Focal preference loss: mean((1 − p)^γ · (−log p)), p = σ(r_w − r_l); γ = 0 is Bradley-Terry.</summary>
public static class Focal
{
    /// <summary>The loss, shape (). γ ≥ 0 (default 2).</summary>
    public static Tensor Loss(Tape tape, Tensor chosen, Tensor rejected, float gamma = 2f)
    {
        Shapes.RequireEqual("Focal.Loss", chosen, rejected);
        if (!(gamma >= 0)) throw new ArgumentOutOfRangeException(nameof(gamma), $"Focal.Loss: gamma must be ≥ 0, got {gamma}.");
        var delta = tape.Sub(chosen, rejected);
        var logP = tape.LogSigmoid(delta);                                     // log p
        var logOneMinusP = tape.LogSigmoid(tape.Scale(delta, -1f));            // log(1 − p) = log σ(−Δ)
        var modulator = tape.Exp(tape.Scale(logOneMinusP, gamma));             // (1 − p)^γ
        return tape.Scale(tape.Mean(tape.Mul(modulator, logP)), -1f);
    }
}
