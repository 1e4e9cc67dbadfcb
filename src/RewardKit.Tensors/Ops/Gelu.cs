using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>
/// GELU in its two forms: the tanh approximation GPT-2 calls gelu_new, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))),
/// and the exact form BERT uses (Hugging Face <c>gelu</c>, PyTorch <c>nn.GELU()</c>), x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
/// </summary>
public static class GeluOp
{
    /// <summary>gelu_new(x), forward and backward in <see cref="Activations.GeluForward(ReadOnlySpan{float}, Span{float})"/>, split across the tape's pool.</summary>
    public static Tensor Gelu(this Tape tape, Tensor x)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        var pool = tape.Pool;
        Elementwise.GeluForward(x.Data, y.Data, pool, Activations.Best);
        tape.Record(y, () => Elementwise.GeluBackward(x.Data, y.Grad, x.Grad, pool, Activations.Best));
        return y;
    }

    /// <summary>The exact GELU x·Φ(x) (BERT's <c>hidden_act: "gelu"</c>), forward and backward in <see cref="Kernels.GeluErf"/>, split across the tape's pool.</summary>
    public static Tensor GeluErf(this Tape tape, Tensor x)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        var pool = tape.Pool;
        Elementwise.GeluErfForward(x.Data, y.Data, pool, Activations.Best);
        tape.Record(y, () => Elementwise.GeluErfBackward(x.Data, y.Grad, x.Grad, pool, Activations.Best));
        return y;
    }
}
