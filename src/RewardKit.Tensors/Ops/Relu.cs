namespace RewardKit.Tensors;

/// <summary>max(0, x) element-wise.</summary>
public static class ReluOp
{
    /// <summary>max(0, x).</summary>
    public static Tensor Relu(this Tape tape, Tensor x)
        => throw new NotImplementedException("Relu: not built yet");

}
