namespace RewardKit.Tensors;

/// <summary>GELU, the tanh approximation GPT-2 calls gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
public static class GeluOp
{
    /// <summary>gelu_new(x).</summary>
    public static Tensor Gelu(this Tape tape, Tensor x)
        => throw new NotImplementedException("Gelu: not built yet");

}
