using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RewardKit.Tensors.Kernels;

/// <summary>One GEMM problem as raw pointers and row strides: C (+)= alpha · op(A) · op(B).</summary>
internal unsafe struct GemmProblem
{
    public float* A, B, C;
    public int M, N, K;
    public nint Lda, Ldb, Ldc;   // row strides of A, B, C as stored
    public bool TransposeA, TransposeB, Accumulate;
    public float Alpha;

    /// <summary>A shifted to another batch item.</summary>
    public readonly GemmProblem Offset(nint da, nint db, nint dc)
    {
        var p = this;
        p.A += da; p.B += db; p.C += dc;
        return p;
    }
}

/// <summary>
/// The GotoBLAS/BLIS loop nest around a micro-kernel. Loop order (C row-major, tiles MR x NR):
/// rows block MC → depth block KC (pack A: MC x KC into MR slivers, lives in L3/L2) → columns block NC
/// (pack B: KC x NC into NR slivers, lives in L2) → MR sliver (A sliver stays in L1) → NR sliver (B streams from L2).
/// The depth blocking KC is the same for every kernel and every thread split, so each C element is accumulated in the
/// same order whatever the thread count or ISA: results are identical run to run and across thread counts.
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>Depth block: shared by all kernels (it fixes the summation order).</summary>
    public const int KC = 384;
    /// <summary>Rows per packed A block.</summary>
    public const int MC = 1152;
    /// <summary>Columns per packed B block.</summary>
    public const int NC = 512;

    /// <summary>Scratch floats one thread needs for a problem of this size with kernel TK.</summary>
    public static nuint ScratchFloats<TK>(int m, int n, int k) where TK : struct, IMicroKernel
    {
        int kc = Math.Min(KC, Math.Max(k, 1));
        int mc = RoundUp(Math.Min(MC, m), TK.MR);
        int nc = RoundUp(Math.Min(NC, n), TK.NR);
        return (nuint)(mc * kc + nc * kc + TK.MR * TK.NR + 64);
    }

    /// <summary>Computes rows [m0, m1) x columns [n0, n1) of C on the current thread using <paramref name="scratch"/>.</summary>
    public static void Compute<TK>(in GemmProblem p, int m0, int m1, int n0, int n1, float* scratch) where TK : struct, IMicroKernel
    {
        int mr = TK.MR, nr = TK.NR;
        if (m0 >= m1 || n0 >= n1) return;
        if (p.K == 0)
        {
            if (!p.Accumulate)
                for (int i = m0; i < m1; i++) new Span<float>(p.C + i * p.Ldc + n0, n1 - n0).Clear();
            return;
        }
        int kcMax = Math.Min(KC, p.K);
        int mcMax = RoundUp(Math.Min(MC, m1 - m0), mr);
        int ncMax = RoundUp(Math.Min(NC, n1 - n0), nr);
        float* packA = scratch;
        float* packB = AlignUp(packA + mcMax * kcMax);
        float* tile = AlignUp(packB + ncMax * kcMax);

        for (int ic = m0; ic < m1; ic += MC)
        {
            int mc = Math.Min(MC, m1 - ic);
            for (int pc = 0; pc < p.K; pc += KC)
            {
                int kc = Math.Min(KC, p.K - pc);
                bool accumulate = p.Accumulate || pc > 0;
                PackA<TK>(p, ic, mc, pc, kc, packA);
                for (int jc = n0; jc < n1; jc += NC)
                {
                    int nc = Math.Min(NC, n1 - jc);
                    PackB<TK>(p, jc, nc, pc, kc, packB);
                    for (int ir = 0; ir < mc; ir += mr)
                    {
                        int rows = Math.Min(mr, mc - ir);
                        float* aSliver = packA + ir * kc;
                        float* cRow = p.C + (ic + ir) * p.Ldc + jc;
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int cols = Math.Min(nr, nc - jr);
                            float* bSliver = packB + jr * kc;
                            if (rows == mr && cols == nr)
                                TK.Run(kc, aSliver, bSliver, cRow + jr, p.Ldc, p.Alpha, accumulate);
                            else
                            {
                                TK.Run(kc, aSliver, bSliver, tile, nr, p.Alpha, accumulate: false);
                                MergeTile(tile, nr, cRow + jr, p.Ldc, rows, cols, accumulate);
                            }
                        }
                    }
                }
            }
        }
    }

    static void MergeTile(float* tile, int nr, float* c, nint ldc, int rows, int cols, bool accumulate)
    {
        for (int i = 0; i < rows; i++)
        {
            float* src = tile + i * nr, dst = c + i * ldc;
            if (accumulate) for (int j = 0; j < cols; j++) dst[j] += src[j];
            else for (int j = 0; j < cols; j++) dst[j] = src[j];
        }
    }

    /// <summary>Packs rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) into MR-row slivers, zero-padding the last.</summary>
    static void PackA<TK>(in GemmProblem p, int i0, int mc, int p0, int kc, float* dst) where TK : struct, IMicroKernel
    {
        int mr = TK.MR;
        for (int s = 0; s < mc; s += mr)
        {
            int rows = Math.Min(mr, mc - s);
            float* d = dst + s * kc;
            if (p.TransposeA)
            {
                // A stored (K, M): a k-row of the sliver is contiguous.
                float* src = p.A + (nint)p0 * p.Lda + i0 + s;
                for (int q = 0; q < kc; q++, src += p.Lda, d += mr)
                {
                    int r = 0;
                    if (Vector256.IsHardwareAccelerated)
                        for (; r + 8 <= rows; r += 8) Vector256.Store(Vector256.Load(src + r), d + r);
                    for (; r < rows; r++) d[r] = src[r];
                    for (; r < mr; r++) d[r] = 0f;
                }
            }
            else
            {
                // A stored (M, K): each sliver row is contiguous along k; write it with stride MR.
                for (int r = 0; r < rows; r++)
                {
                    float* src = p.A + (nint)(i0 + s + r) * p.Lda + p0;
                    float* dr = d + r;
                    for (int q = 0; q < kc; q++) dr[q * mr] = src[q];
                }
                for (int r = rows; r < mr; r++)
                    for (int q = 0; q < kc; q++) d[q * mr + r] = 0f;
            }
        }
    }

    /// <summary>Packs depth [p0, p0+kc) x columns [j0, j0+nc) of op(B) into NR-column slivers, zero-padding the last.</summary>
    static void PackB<TK>(in GemmProblem p, int j0, int nc, int p0, int kc, float* dst) where TK : struct, IMicroKernel
    {
        int nr = TK.NR;
        for (int s = 0; s < nc; s += nr)
        {
            int cols = Math.Min(nr, nc - s);
            float* d = dst + s * kc;
            if (!p.TransposeB)
            {
                // B stored (K, N): a k-row of the sliver is contiguous.
                float* src = p.B + (nint)p0 * p.Ldb + j0 + s;
                for (int q = 0; q < kc; q++, src += p.Ldb, d += nr)
                {
                    int c = 0;
                    if (Vector256.IsHardwareAccelerated)
                        for (; c + 8 <= cols; c += 8) Vector256.Store(Vector256.Load(src + c), d + c);
                    for (; c < cols; c++) d[c] = src[c];
                    for (; c < nr; c++) d[c] = 0f;
                }
            }
            else
            {
                // B stored (N, K): each sliver column is contiguous along k; write it with stride NR.
                for (int c = 0; c < cols; c++)
                {
                    float* src = p.B + (nint)(j0 + s + c) * p.Ldb + p0;
                    float* dc = d + c;
                    for (int q = 0; q < kc; q++) dc[q * nr] = src[q];
                }
                for (int c = cols; c < nr; c++)
                    for (int q = 0; q < kc; q++) d[q * nr + c] = 0f;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float* AlignUp(float* p)
    {
        Debug.Assert(((nuint)p & 3) == 0);
        return (float*)(((nuint)p + 63) & ~(nuint)63);
    }
}
