namespace RewardKit.Tensors.Kernels;

/// <summary>
/// Single-precision matrix multiply, C (+)= op(A) · op(B), all row-major.
/// A is (M, K), or (K, M) when <c>transposeA</c>; B is (K, N), or (N, K) when <c>transposeB</c>; C is (M, N).
/// </summary>
public static class Gemm
{
    /// <summary>The fast path. Until the blocked kernel lands this forwards to <see cref="Reference"/>.</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transposeA = false, bool transposeB = false, bool accumulate = false, WorkerPool? pool = null)
        => Reference(a, b, c, m, n, k, transposeA, transposeB, accumulate);

    /// <summary>The naive triple loop (double accumulation), kept as the reference the fast kernels are tested against.</summary>
    public static void Reference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transposeA = false, bool transposeB = false, bool accumulate = false)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * m + i] : a[i * k + p];
                    float bv = transposeB ? b[j * k + p] : b[p * n + j];
                    sum += (double)av * bv;
                }
                c[i * n + j] = accumulate ? c[i * n + j] + (float)sum : (float)sum;
            }
    }
}
