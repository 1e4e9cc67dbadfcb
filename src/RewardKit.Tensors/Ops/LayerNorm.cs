namespace RewardKit.Tensors;

/// <summary>Fused layer normalisation over the last axis (forward caches mean and rstd).</summary>
public static class LayerNormOp
{
    /// <summary>(x − mean) · rstd · weight + bias. x (..., C), weight (C), bias (C).</summary>
    public static Tensor LayerNorm(this Tape tape, Tensor x, Tensor weight, Tensor bias, float eps = 1e-5f)
        => throw new NotImplementedException("LayerNorm: not built yet");

}
