namespace RewardKit.Tensors;

/// <summary>Gathers rows along the first axis by index (reads the reward at the last real token); the backward scatter-adds.</summary>
public static class GatherOp
{
    /// <summary>x (N, ...), indices (M) in [0, N) → (M, ...).</summary>
    public static Tensor GatherRows(this Tape tape, Tensor x, int[] indices)
        => throw new NotImplementedException("Gather: not built yet");

}
