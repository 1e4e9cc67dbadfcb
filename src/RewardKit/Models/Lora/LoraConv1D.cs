// Shapes: r LoRA rank, in/out a Conv1D layer's sizes; x is (..., in).
using RewardKit.Tensors;

namespace RewardKit.Models.Lora;

/// <summary>
/// The Conv1D path of a <see cref="LoraRewardModel"/>: for an adapted layer x · W + b + ((α/r) · dropout(x) · Aᵀ) · Bᵀ,
/// composed from recorded ops (Conv1D, Dropout, Linear, Scale, Add) so the gradients reach A and B; other layers are the
/// plain float Conv1D. The scaling is applied to the (..., r) product, and the two (..., out) terms go back to the arena
/// once added (no backward reads them), so an adapted layer keeps one (..., out) activation, as a plain one does.
/// Made per forward pass (it carries that pass's dropout).
/// </summary>
sealed class LoraConv1D(LoraRewardModel model, float dropout, Rng? dropoutRng) : IConv1DKernel
{
    /// <inheritdoc/>
    public Tensor Conv1D(Tape tape, Tensor x, Tensor weight, Tensor? bias)
    {
        var y = tape.Conv1D(x, weight, bias);                                          // (..., out)
        if (model.LayerOf(weight) is not { } layer) return y;
        var input = dropout > 0 ? tape.Dropout(x, dropout, dropoutRng!) : x;           // (..., in)
        var down = tape.Scale(tape.Linear(input, layer.A, null), model.Settings.Scaling);   // (..., r)
        var up = tape.Linear(down, layer.B, null);                                      // (..., out)
        var sum = tape.Add(y, up);                                                      // (..., out)
        tape.Release(y);
        tape.Release(up);
        return sum;
    }
}
