namespace RewardKit.Tensors;

/// <summary>Element-wise minimum and maximum with broadcasting (PPO clipping); where a == b the gradient is split evenly, as in PyTorch.</summary>
public static class MinMaxOp
{
    /// <summary>min(a, b), broadcast.</summary>
    public static Tensor Minimum(this Tape tape, Tensor a, Tensor b)
        => throw new NotImplementedException("MinMax: not built yet");

    /// <summary>max(a, b), broadcast.</summary>
    public static Tensor Maximum(this Tape tape, Tensor a, Tensor b)
        => throw new NotImplementedException("MinMax: not built yet");

}
