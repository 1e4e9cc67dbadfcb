using RewardKit.Tensors;

namespace RewardKit.Training.Losses;

/// <summary>
/// Contrastive (InfoNCE over the pair) loss with temperature τ: −log exp(r_w/τ) / (exp(r_w/τ) + exp(r_l/τ)),
/// which equals −log σ((r_w − r_l)/τ), computed that way for stability.
/// </summary>
public static class Contrastive
{
    /// <summary>The loss, shape (). τ &gt; 0 (default 1, where it equals Bradley-Terry).</summary>
    public static Tensor Loss(Tape tape, Tensor chosen, Tensor rejected, float temperature = 1f)
    {
        Shapes.RequireEqual("Contrastive.Loss", chosen, rejected);
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), $"Contrastive.Loss: the temperature must be > 0, got {temperature}.");
        var delta = tape.Scale(tape.Sub(chosen, rejected), 1f / temperature);
        return tape.Scale(tape.Mean(tape.LogSigmoid(delta)), -1f);
    }
}
