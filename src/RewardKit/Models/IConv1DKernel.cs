// Shapes: B batch, T time (padded length), C channels (n_embd), NH heads, hs = C / NH, V vocabulary.
using RewardKit.Tensors;

namespace RewardKit.Models;

/// <summary>
/// How a <see cref="GptRewardModel"/> applies its Conv1D layers (<c>c_attn</c>, <c>attn.c_proj</c>, <c>c_fc</c>,
/// <c>mlp.c_proj</c>). Without one the model calls the engine's float <c>tape.Conv1D</c>; an inference-only
/// implementation (e.g. <see cref="QuantizedConv1D"/>) substitutes its own matmul for the
/// layers it knows, identified by the weight parameter, and falls back to <c>tape.Conv1D</c> for the rest.
/// Implementations must be safe to call from several threads at once.
/// </summary>
public interface IConv1DKernel
{
    /// <summary>x · weight + bias for the layer whose parameter is <paramref name="weight"/>.</summary>
    /// <param name="tape">The tape of the step (its pool and arena).</param>
    /// <param name="x">(..., in).</param>
    /// <param name="weight">(in, out), the model's Conv1D parameter; it identifies the layer.</param>
    /// <param name="bias">(out) or null.</param>
    /// <returns>(..., out).</returns>
    Tensor Conv1D(Tape tape, Tensor x, Tensor weight, Tensor? bias);
}

/// <summary>The one place the model's Conv1D calls go through: the hook when there is one, else the float op.</summary>
static class Conv1DDispatch
{
    public static Tensor Apply(Tape tape, IConv1DKernel? kernel, Tensor x, Tensor weight, Tensor? bias) =>
        kernel is null ? tape.Conv1D(x, weight, bias) : kernel.Conv1D(tape, x, weight, bias);
}
