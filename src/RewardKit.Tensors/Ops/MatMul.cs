namespace RewardKit.Tensors;

/// <summary>Matrix products on the packed SGEMM kernel; transposed operands are read in place, never copied.</summary>
public static class MatMulOp
{
    /// <summary>op(a) · op(b) for 2-D a (M, K) and b (K, N) (or transposed layouts); a may have leading axes, flattened into M.</summary>
    public static Tensor MatMul(this Tape tape, Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
        => throw new NotImplementedException("MatMul: not built yet");

    /// <summary>Batched op(a) · op(b): a (B, M, K), b (B, K, N) (or transposed layouts) → (B, M, N).</summary>
    public static Tensor BatchedMatMul(this Tape tape, Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
        => throw new NotImplementedException("MatMul: not built yet");

}
