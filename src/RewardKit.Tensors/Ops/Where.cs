namespace RewardKit.Tensors;

/// <summary>Selects a where the condition is non-zero, else b (condition, a and b broadcast together); the condition takes no gradient.</summary>
public static class WhereOp
{
    /// <summary>condition ? a : b.</summary>
    public static Tensor Where(this Tape tape, Tensor condition, Tensor a, Tensor b)
        => throw new NotImplementedException("Where: not built yet");

}
