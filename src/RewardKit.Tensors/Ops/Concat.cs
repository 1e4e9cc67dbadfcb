namespace RewardKit.Tensors;

/// <summary>Concatenation along an axis and its inverse, split.</summary>
public static class ConcatOp
{
    /// <summary>Joins tensors whose shapes agree except along <paramref name="axis"/>.</summary>
    public static Tensor Concat(this Tape tape, IReadOnlyList<Tensor> parts, int axis)
        => throw new NotImplementedException("Concat: not built yet");

    /// <summary>Splits along <paramref name="axis"/> into parts of the given sizes (which sum to that axis).</summary>
    public static Tensor[] Split(this Tape tape, Tensor x, int[] sizes, int axis)
        => throw new NotImplementedException("Concat: not built yet");

}
