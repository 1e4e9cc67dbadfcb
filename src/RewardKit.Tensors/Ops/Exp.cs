namespace RewardKit.Tensors;

/// <summary>e^x element-wise.</summary>
public static class ExpOp
{
    /// <summary>e^x.</summary>
    public static Tensor Exp(this Tape tape, Tensor x)
        => throw new NotImplementedException("Exp: not built yet");

}
