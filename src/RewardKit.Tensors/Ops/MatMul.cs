using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>Matrix products on the packed SGEMM kernel; transposed operands are read in place, never copied.</summary>
public static class MatMulOp
{
    /// <summary>op(a) · op(b) for 2-D a (M, K) and b (K, N) (or transposed layouts); a may have leading axes, flattened into M.</summary>
    public static Tensor MatMul(this Tape tape, Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
    {
        const string op = "MatMul";
        Shapes.RequireRank(op, b, 2, "b");
        if (transposeA) Shapes.RequireRank(op, a, 2, "a (transposed)");
        else Shapes.Require(a.Rank >= 2, op, "a needs at least two axes", a, b);
        int k = transposeA ? a.Shape[0] : a.Dim(-1);
        int m = transposeA ? a.Shape[1] : Shapes.Product(a.Shape.AsSpan(0, a.Rank - 1));
        int kb = transposeB ? b.Shape[1] : b.Shape[0];
        int n = transposeB ? b.Shape[0] : b.Shape[1];
        Shapes.Require(k == kb, op, $"inner dimensions differ ({k} vs {kb}; transposeA {transposeA}, transposeB {transposeB})", a, b);
        int[] shape;
        if (transposeA) shape = [m, n];
        else { shape = (int[])a.Shape.Clone(); shape[^1] = n; }
        return Product(tape, a, b, shape, 1, m, n, k, transposeA, transposeB);
    }

    /// <summary>Batched op(a) · op(b): a (B, M, K), b (B, K, N) (or transposed layouts) → (B, M, N).</summary>
    public static Tensor BatchedMatMul(this Tape tape, Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
    {
        const string op = "BatchedMatMul";
        Shapes.RequireRank(op, a, 3, "a");
        Shapes.RequireRank(op, b, 3, "b");
        Shapes.Require(a.Shape[0] == b.Shape[0], op, $"batch sizes differ ({a.Shape[0]} vs {b.Shape[0]})", a, b);
        int m = transposeA ? a.Shape[2] : a.Shape[1];
        int k = transposeA ? a.Shape[1] : a.Shape[2];
        int kb = transposeB ? b.Shape[2] : b.Shape[1];
        int n = transposeB ? b.Shape[1] : b.Shape[2];
        Shapes.Require(k == kb, op, $"inner dimensions differ ({k} vs {kb}; transposeA {transposeA}, transposeB {transposeB})", a, b);
        return Product(tape, a, b, [a.Shape[0], m, n], a.Shape[0], m, n, k, transposeA, transposeB);
    }

    static Tensor Product(Tape tape, Tensor a, Tensor b, int[] shape, int batch, int m, int n, int k, bool transposeA, bool transposeB)
    {
        var c = tape.Output(shape, tape.NeedsGrad(a, b));
        var pool = tape.Pool;
        long sa = (long)m * k, sb = (long)k * n, sc = (long)m * n;
        Multiply(a.Data, b.Data, c.Data, batch, m, n, k, sa, sb, sc, transposeA, transposeB, false, pool);
        tape.Record(c, () =>
        {
            var dc = c.Grad;
            if (a.RequiresGrad)
            {
                if (!transposeA) // dA (M, K) += dC (M, N) · op(B)ᵀ
                    Multiply(dc, b.Data, a.Grad, batch, m, k, n, sc, sb, sa, false, !transposeB, true, pool);
                else             // dA stored (K, M) += op(B) (K, N) · dCᵀ
                    Multiply(b.Data, dc, a.Grad, batch, k, m, n, sb, sc, sa, transposeB, true, true, pool);
            }
            if (b.RequiresGrad)
            {
                if (!transposeB) // dB (K, N) += op(A)ᵀ (K, M) · dC (M, N)
                    Multiply(a.Data, dc, b.Grad, batch, k, n, m, sa, sc, sb, !transposeA, false, true, pool);
                else             // dB stored (N, K) += dCᵀ (N, M) · op(A) (M, K)
                    Multiply(dc, a.Data, b.Grad, batch, n, k, m, sc, sa, sb, true, transposeA, true, pool);
            }
        });
        return c;
    }

    static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int batch, int m, int n, int k,
        long strideA, long strideB, long strideC, bool transposeA, bool transposeB, bool accumulate, WorkerPool pool)
    {
        if (batch == 1) Gemm.Multiply(a, b, c, m, n, k, transposeA, transposeB, accumulate, pool);
        else Gemm.MultiplyBatched(a, b, c, batch, m, n, k, strideA, strideB, strideC, transposeA, transposeB, accumulate, 1f, pool);
    }
}
