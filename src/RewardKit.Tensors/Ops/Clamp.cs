namespace RewardKit.Tensors;

/// <summary>Clamps into [min, max]; the gradient is 1 inside and 0 where clamped.</summary>
public static class ClampOp
{
    /// <summary>min(max(x, min), max).</summary>
    public static Tensor Clamp(this Tape tape, Tensor x, float min, float max)
        => throw new NotImplementedException("Clamp: not built yet");

}
