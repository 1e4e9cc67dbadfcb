// Shapes: B batch, T time (padded length), C channels (n_embd), NH heads, hs = C / NH, V vocabulary.
using RewardKit.Tensors;

namespace RewardKit.Models;

/// <summary>GPT-2's position-wise MLP: Conv1D <c>c_fc</c> (C → 4C), gelu_new, Conv1D <c>c_proj</c> (4C → C).</summary>
public sealed class Mlp
{
    internal Mlp(ParameterSet.Builder parameters, string prefix, GptConfig config)
    {
        int c = config.EmbeddingSize;
        FcWeight = parameters.Add(prefix + "c_fc.weight", [c, 4 * c]);
        FcBias = parameters.Add(prefix + "c_fc.bias", [4 * c], weightDecay: false);
        ProjectionWeight = parameters.Add(prefix + "c_proj.weight", [4 * c, c]);
        ProjectionBias = parameters.Add(prefix + "c_proj.bias", [c], weightDecay: false);
    }

    /// <summary><c>c_fc.weight</c> (C, 4C), Conv1D layout [in, out].</summary>
    public Tensor FcWeight { get; }

    /// <summary><c>c_fc.bias</c> (4C).</summary>
    public Tensor FcBias { get; }

    /// <summary><c>c_proj.weight</c> (4C, C), Conv1D layout [in, out].</summary>
    public Tensor ProjectionWeight { get; }

    /// <summary><c>c_proj.bias</c> (C).</summary>
    public Tensor ProjectionBias { get; }

    /// <summary>c_proj(gelu_new(c_fc(x))).</summary>
    /// <param name="tape">The tape recording the step.</param>
    /// <param name="x">(B, T, C).</param>
    /// <param name="conv1D">How the Conv1D layers are applied; null is the float op.</param>
    /// <returns>(B, T, C).</returns>
    public Tensor Forward(Tape tape, Tensor x, IConv1DKernel? conv1D = null)
    {
        // The float path fuses bias and GELU into c_fc; a quantised kernel keeps them separate.
        var hidden = conv1D is null
            ? tape.Conv1DGelu(x, FcWeight, FcBias)                                          // (B, T, 4C) gelu_new(c_fc(x))
            : tape.Gelu(Conv1DDispatch.Apply(tape, conv1D, x, FcWeight, FcBias));
        return Conv1DDispatch.Apply(tape, conv1D, hidden, ProjectionWeight, ProjectionBias);   // (B, T, C)
    }
}
