namespace RewardKit.Tensors;

/// <summary>The logistic function σ(x) = 1 / (1 + e^−x), stable for large |x|.</summary>
public static class SigmoidOp
{
    /// <summary>σ(x).</summary>
    public static Tensor Sigmoid(this Tape tape, Tensor x)
        => throw new NotImplementedException("Sigmoid: not built yet");

}
