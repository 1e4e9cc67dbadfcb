using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // no slow tier-0 pass over the packing loops
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
        // Deep and narrow (e.g. the (2048, 1024) x (1024, 256) FFN-down product): C is read back once per depth block and
        // each tile's C lines are worth fetching ahead. Wider B panels fill L2 themselves; there it measured slower.
        bool prefetchC = p.K > KC && ncMax <= NC / 2;

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
                            {
                                if (prefetchC) PrefetchTile(cRow + jr, p.Ldc, mr, nr);
                                TK.Run(kc, aSliver, bSliver, cRow + jr, p.Ldc, p.Alpha, accumulate);
                            }
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

    /// <summary>
    /// Asks for the C tile's lines before the micro-kernel's kc-long FMA loop, so its loads and stores of C at the end do
    /// not wait on L3 or memory. Measured with two threads (session 12): +6% on (2048, 1024) x (1024, 256) and its
    /// transposed-B twin, -4% on (2048, 3072) x (3072, 768), hence the narrow-panel condition in <see cref="Compute{TK}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void PrefetchTile(float* c, nint ldc, int rows, int cols)
    {
        if (!Sse.IsSupported) return;
        for (int i = 0; i < rows; i++, c += ldc)
        {
            for (int j = 0; j < cols; j += 16) Sse.Prefetch1(c + j);
            Sse.Prefetch1(c + cols - 1);   // one more line when the row is not 64-byte aligned
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // no slow tier-0 pass over the packing loops
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
        if (p.TransposeA)
            // A stored (K, M): each stored row holds one k of every sliver; read it once, front to back.
            PackRowsAcross(p.A + (nint)p0 * p.Lda + i0, p.Lda, kc, mc, TK.MR, dst);
        else
            // A stored (M, K): each sliver row is contiguous along k; transpose 8 x 8 blocks into the sliver.
            PackTransposed(p.A + (nint)i0 * p.Lda + p0, p.Lda, mc, kc, TK.MR, dst);
    }

    /// <summary>Packs depth [p0, p0+kc) x columns [j0, j0+nc) of op(B) into NR-column slivers, zero-padding the last.</summary>
    static void PackB<TK>(in GemmProblem p, int j0, int nc, int p0, int kc, float* dst) where TK : struct, IMicroKernel
    {
        if (!p.TransposeB)
            PackRowsAcross(p.B + (nint)p0 * p.Ldb + j0, p.Ldb, kc, nc, TK.NR, dst);
        else
            PackTransposed(p.B + (nint)j0 * p.Ldb + p0, p.Ldb, nc, kc, TK.NR, dst);
    }

    /// <summary>Rows of src packed together per sliver by <see cref="PackRowsAcross"/>.</summary>
    const int PackRowGroup = 8;

    /// <summary>
    /// src is (kc, width) with row stride ld; writes slivers of <paramref name="r"/> columns, sliver s at
    /// dst + s·kc, element (q, c) at q·r + c. Goes in groups of <see cref="PackRowGroup"/> rows, sliver by sliver: each
    /// sliver then gets one contiguous run of group·r floats while the group's rows are read front to back. (Row by row,
    /// every row wrote one line to each sliver, and the slivers lie kc·r·4 bytes apart, a multiple of 4 KiB for the
    /// 32- and 16-wide B slivers: all those lines fell in the same L1 set; perf showed the packing at 14% of a
    /// weight-gradient product.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // no slow tier-0 pass over the packing loops
    static void PackRowsAcross(float* src, nint ld, int kc, int width, int r, float* dst)
    {
        int full = width / r * r;
        for (int q0 = 0; q0 < kc; q0 += PackRowGroup)
        {
            int q1 = Math.Min(kc, q0 + PackRowGroup);
            float* d = dst + q0 * r;
            int s = 0;
            for (; s < full; s += r, d += (nint)r * kc)
                for (int q = q0; q < q1; q++)
                    CopySliverRow(src + q * ld + s, d + (q - q0) * r, r);
            if (s < width)
                for (int q = q0; q < q1; q++)
                {
                    float* row = src + q * ld + s, o = d + (q - q0) * r;
                    int c = 0;
                    for (; c < width - s; c++) o[c] = row[c];
                    for (; c < r; c++) o[c] = 0f;
                }
        }
    }

    /// <summary>r floats from <paramref name="from"/> to <paramref name="to"/> (r = 32, 16, 12, 6 or 4 in practice).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void CopySliverRow(float* from, float* to, int r)
    {
        int c = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; c + 8 <= r; c += 8) Vector256.Store(Vector256.Load(from + c), to + c);
        if (Vector128.IsHardwareAccelerated)
            for (; c + 4 <= r; c += 4) Vector128.Store(Vector128.Load(from + c), to + c);
        for (; c + 2 <= r; c += 2) *(long*)(to + c) = *(long*)(from + c);   // the AVX2 kernel's 6-wide A slivers: 4 + 2
        for (; c < r; c++) to[c] = from[c];
    }

    /// <summary>
    /// src is (width, kc) with row stride ld; writes slivers of <paramref name="r"/> rows transposed: sliver s at
    /// dst + s·kc, element (row c, depth q) at q·r + c. Uses in-register 8 x 8 (and 4 x 8) transposes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // no slow tier-0 pass over the packing loops
    static void PackTransposed(float* src, nint ld, int width, int kc, int r, float* dst)
    {
        for (int s = 0; s < width; s += r)
        {
            int rows = Math.Min(r, width - s);
            float* d = dst + s * kc;
            float* block = src + s * ld;
            int c = 0;
            if (Avx.IsSupported)
            {
                for (; c + 8 <= rows; c += 8) Transpose8Rows(block + c * ld, ld, kc, d + c, r);
                if (rows - c == 6) { Transpose6Rows(block + c * ld, ld, kc, d + c, r); c += 6; }
                for (; c + 4 <= rows; c += 4) Transpose4Rows(block + c * ld, ld, kc, d + c, r);
            }
            for (; c < rows; c++)
            {
                float* row = block + c * ld;
                for (int q = 0; q < kc; q++) d[q * r + c] = row[q];
            }
            for (; c < r; c++)
                for (int q = 0; q < kc; q++) d[q * r + c] = 0f;
        }
    }

    /// <summary>Rows 0..7 of src (stride ld) along depth 0..kc-1 → d[q·r + 0..7].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // no slow tier-0 pass over the packing loops
    static void Transpose8Rows(float* src, nint ld, int kc, float* d, int r)
    {
        int q = 0;
        for (; q + 8 <= kc; q += 8)
        {
            Transpose8x8(Avx.LoadVector256(src + q), Avx.LoadVector256(src + ld + q), Avx.LoadVector256(src + 2 * ld + q),
                Avx.LoadVector256(src + 3 * ld + q), Avx.LoadVector256(src + 4 * ld + q), Avx.LoadVector256(src + 5 * ld + q),
                Avx.LoadVector256(src + 6 * ld + q), Avx.LoadVector256(src + 7 * ld + q),
                out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
            float* o = d + q * r;
            Avx.Store(o, o0); Avx.Store(o + r, o1); Avx.Store(o + 2 * r, o2); Avx.Store(o + 3 * r, o3);
            Avx.Store(o + 4 * r, o4); Avx.Store(o + 5 * r, o5); Avx.Store(o + 6 * r, o6); Avx.Store(o + 7 * r, o7);
        }
        for (; q < kc; q++)
            for (int c = 0; c < 8; c++) d[q * r + c] = src[c * ld + q];
    }

    /// <summary>
    /// Rows 0..5 of src (stride ld) along depth 0..kc-1 → d[q·r + 0..5]: a full sliver of the AVX2 kernel (MR = 6), as an
    /// 8 x 8 transpose with two zero rows, each output row stored as 4 + 2 floats. (Four rows by vector and two by scalar
    /// loads measured ~6% of a small-model training step's thread time in packing.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // no slow tier-0 pass over the packing loops
    static void Transpose6Rows(float* src, nint ld, int kc, float* d, int r)
    {
        int q = 0;
        var zero = Vector256<float>.Zero;
        for (; q + 8 <= kc; q += 8)
        {
            Transpose8x8(Avx.LoadVector256(src + q), Avx.LoadVector256(src + ld + q), Avx.LoadVector256(src + 2 * ld + q),
                Avx.LoadVector256(src + 3 * ld + q), Avx.LoadVector256(src + 4 * ld + q), Avx.LoadVector256(src + 5 * ld + q), zero, zero,
                out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
            float* o = d + q * r;
            Store6(o, o0); Store6(o + r, o1); Store6(o + 2 * r, o2); Store6(o + 3 * r, o3);
            Store6(o + 4 * r, o4); Store6(o + 5 * r, o5); Store6(o + 6 * r, o6); Store6(o + 7 * r, o7);
        }
        for (; q < kc; q++)
            for (int c = 0; c < 6; c++) d[q * r + c] = src[c * ld + q];
    }

    /// <summary>The first six floats of <paramref name="row"/> at <paramref name="o"/> (4 + 2), leaving o[6..7] alone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store6(float* o, Vector256<float> row)
    {
        Sse.Store(o, row.GetLower());
        Sse.StoreLow(o + 4, row.GetUpper());
    }

    /// <summary>In-register 8 x 8 transpose: output k holds element k of each input row, rows 0..7 in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3,
        out Vector256<float> o4, out Vector256<float> o5, out Vector256<float> o6, out Vector256<float> o7)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        o0 = Avx.Permute2x128(u0, u4, 0x20); o1 = Avx.Permute2x128(u1, u5, 0x20);
        o2 = Avx.Permute2x128(u2, u6, 0x20); o3 = Avx.Permute2x128(u3, u7, 0x20);
        o4 = Avx.Permute2x128(u0, u4, 0x31); o5 = Avx.Permute2x128(u1, u5, 0x31);
        o6 = Avx.Permute2x128(u2, u6, 0x31); o7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>Rows 0..3 of src (stride ld) along depth 0..kc-1 → d[q·r + 0..3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // no slow tier-0 pass over the packing loops
    static void Transpose4Rows(float* src, nint ld, int kc, float* d, int r)
    {
        int q = 0;
        for (; q + 8 <= kc; q += 8)
        {
            var r0 = Avx.LoadVector256(src + q);
            var r1 = Avx.LoadVector256(src + ld + q);
            var r2 = Avx.LoadVector256(src + 2 * ld + q);
            var r3 = Avx.LoadVector256(src + 3 * ld + q);
            var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
            var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
            var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
            float* o = d + q * r;
            Sse.Store(o, u0.GetLower());
            Sse.Store(o + r, u1.GetLower());
            Sse.Store(o + 2 * r, u2.GetLower());
            Sse.Store(o + 3 * r, u3.GetLower());
            Sse.Store(o + 4 * r, u0.GetUpper());
            Sse.Store(o + 5 * r, u1.GetUpper());
            Sse.Store(o + 6 * r, u2.GetUpper());
            Sse.Store(o + 7 * r, u3.GetUpper());
        }
        for (; q < kc; q++)
            for (int c = 0; c < 4; c++) d[q * r + c] = src[c * ld + q];
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
