namespace RewardKit.Tensors;

/// <summary>log σ(x) = −softplus(−x), numerically stable for |x| up to 1e4 (the Bradley-Terry loss).</summary>
public static class LogSigmoidOp
{
    /// <summary>log σ(x).</summary>
    public static Tensor LogSigmoid(this Tape tape, Tensor x)
        => throw new NotImplementedException("LogSigmoid: not built yet");

}
