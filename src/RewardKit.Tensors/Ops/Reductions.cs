namespace RewardKit.Tensors;

/// <summary>Sum, mean and max over all elements or one axis.</summary>
public static class ReductionsOp
{
    /// <summary>The sum of all elements, shape ().</summary>
    public static Tensor Sum(this Tape tape, Tensor x)
        => throw new NotImplementedException("Reductions: not built yet");

    /// <summary>The sum over <paramref name="axis"/> (negative counts from the end); the axis is kept with size 1 when <paramref name="keepDim"/>.</summary>
    public static Tensor Sum(this Tape tape, Tensor x, int axis, bool keepDim = false)
        => throw new NotImplementedException("Reductions: not built yet");

    /// <summary>The mean of all elements, shape ().</summary>
    public static Tensor Mean(this Tape tape, Tensor x)
        => throw new NotImplementedException("Reductions: not built yet");

    /// <summary>The mean over <paramref name="axis"/>.</summary>
    public static Tensor Mean(this Tape tape, Tensor x, int axis, bool keepDim = false)
        => throw new NotImplementedException("Reductions: not built yet");

    /// <summary>The maximum over <paramref name="axis"/>; the gradient flows to the first maximal element.</summary>
    public static Tensor Max(this Tape tape, Tensor x, int axis, bool keepDim = false)
        => throw new NotImplementedException("Reductions: not built yet");

}
