namespace RewardKit.Tensors;

/// <summary>softplus(x) = log(1 + e^x), numerically stable for |x| up to 1e4.</summary>
public static class SoftplusOp
{
    /// <summary>log(1 + e^x).</summary>
    public static Tensor Softplus(this Tape tape, Tensor x)
        => throw new NotImplementedException("Softplus: not built yet");

}
