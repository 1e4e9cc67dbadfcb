using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>GELU, the tanh approximation GPT-2 calls gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
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
}
