namespace RewardKit.Tensors;

/// <summary>Natural logarithm element-wise.</summary>
public static class LogOp
{
    /// <summary>ln x.</summary>
    public static Tensor Log(this Tape tape, Tensor x)
        => throw new NotImplementedException("Log: not built yet");

}
