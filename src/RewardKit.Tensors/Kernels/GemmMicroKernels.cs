using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RewardKit.Tensors.Kernels;

/// <summary>
/// A register-blocked micro-kernel: one MR x NR tile of C from a packed A sliver (kc x MR, MR contiguous per k)
/// and a packed B sliver (kc x NR, NR contiguous per k, 64-byte aligned).
/// Every kernel computes each element as acc = fma(a, b, acc) over p = 0..kc-1 in order, then writes
/// c = alpha·acc (or c + alpha·acc), rounding alpha·acc before the add, so all kernels agree bit for bit.
/// </summary>
internal unsafe interface IMicroKernel
{
    /// <summary>Rows of the C tile (broadcast from A).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the C tile (vector loads from B).</summary>
    static abstract int NR { get; }

    /// <summary>Computes the tile; <paramref name="c"/> has row stride <paramref name="ldc"/>.</summary>
    static abstract void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, bool accumulate);
}

/// <summary>AVX-512F: 12 x 32 tile, 24 zmm accumulators, two B vectors and one broadcast per row.</summary>
internal unsafe struct Avx512Kernel : IMicroKernel
{
    public static int MR => 12;
    public static int NR => 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, bool accumulate)
    {
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default, c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default, c6a = default, c6b = default, c7a = default, c7b = default, c8a = default, c8b = default, c9a = default, c9b = default, c10a = default, c10b = default, c11a = default, c11b = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.LoadAligned(b);
            var b1 = Vector512.LoadAligned(b + 16);
            var a0 = Vector512.Create(a[0]); c0a = Avx512F.FusedMultiplyAdd(a0, b0, c0a); c0b = Avx512F.FusedMultiplyAdd(a0, b1, c0b);
            var a1 = Vector512.Create(a[1]); c1a = Avx512F.FusedMultiplyAdd(a1, b0, c1a); c1b = Avx512F.FusedMultiplyAdd(a1, b1, c1b);
            var a2 = Vector512.Create(a[2]); c2a = Avx512F.FusedMultiplyAdd(a2, b0, c2a); c2b = Avx512F.FusedMultiplyAdd(a2, b1, c2b);
            var a3 = Vector512.Create(a[3]); c3a = Avx512F.FusedMultiplyAdd(a3, b0, c3a); c3b = Avx512F.FusedMultiplyAdd(a3, b1, c3b);
            var a4 = Vector512.Create(a[4]); c4a = Avx512F.FusedMultiplyAdd(a4, b0, c4a); c4b = Avx512F.FusedMultiplyAdd(a4, b1, c4b);
            var a5 = Vector512.Create(a[5]); c5a = Avx512F.FusedMultiplyAdd(a5, b0, c5a); c5b = Avx512F.FusedMultiplyAdd(a5, b1, c5b);
            var a6 = Vector512.Create(a[6]); c6a = Avx512F.FusedMultiplyAdd(a6, b0, c6a); c6b = Avx512F.FusedMultiplyAdd(a6, b1, c6b);
            var a7 = Vector512.Create(a[7]); c7a = Avx512F.FusedMultiplyAdd(a7, b0, c7a); c7b = Avx512F.FusedMultiplyAdd(a7, b1, c7b);
            var a8 = Vector512.Create(a[8]); c8a = Avx512F.FusedMultiplyAdd(a8, b0, c8a); c8b = Avx512F.FusedMultiplyAdd(a8, b1, c8b);
            var a9 = Vector512.Create(a[9]); c9a = Avx512F.FusedMultiplyAdd(a9, b0, c9a); c9b = Avx512F.FusedMultiplyAdd(a9, b1, c9b);
            var a10 = Vector512.Create(a[10]); c10a = Avx512F.FusedMultiplyAdd(a10, b0, c10a); c10b = Avx512F.FusedMultiplyAdd(a10, b1, c10b);
            var a11 = Vector512.Create(a[11]); c11a = Avx512F.FusedMultiplyAdd(a11, b0, c11a); c11b = Avx512F.FusedMultiplyAdd(a11, b1, c11b);
            a += 12;
            b += 32;
        }
        Store(c + 0 * ldc, c0a, c0b, alpha, accumulate);
        Store(c + 1 * ldc, c1a, c1b, alpha, accumulate);
        Store(c + 2 * ldc, c2a, c2b, alpha, accumulate);
        Store(c + 3 * ldc, c3a, c3b, alpha, accumulate);
        Store(c + 4 * ldc, c4a, c4b, alpha, accumulate);
        Store(c + 5 * ldc, c5a, c5b, alpha, accumulate);
        Store(c + 6 * ldc, c6a, c6b, alpha, accumulate);
        Store(c + 7 * ldc, c7a, c7b, alpha, accumulate);
        Store(c + 8 * ldc, c8a, c8b, alpha, accumulate);
        Store(c + 9 * ldc, c9a, c9b, alpha, accumulate);
        Store(c + 10 * ldc, c10a, c10b, alpha, accumulate);
        Store(c + 11 * ldc, c11a, c11b, alpha, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector512<float> x0, Vector512<float> x1, float alpha, bool accumulate)
    {
        if (alpha != 1f)
        {
            var va = Vector512.Create(alpha);
            x0 *= va;
            x1 *= va;
        }
        if (accumulate)
        {
            x0 += Vector512.Load(c);
            x1 += Vector512.Load(c + 16);
        }
        Vector512.Store(x0, c);
        Vector512.Store(x1, c + 16);
    }
}

/// <summary>AVX2 + FMA: 6 x 16 tile, 12 ymm accumulators (the Haswell layout).</summary>
internal unsafe struct Avx2Kernel : IMicroKernel
{
    public static int MR => 6;
    public static int NR => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, bool accumulate)
    {
        Vector256<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default, c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.LoadAligned(b);
            var b1 = Vector256.LoadAligned(b + 8);
            var a0 = Vector256.Create(a[0]); c0a = Fma.MultiplyAdd(a0, b0, c0a); c0b = Fma.MultiplyAdd(a0, b1, c0b);
            var a1 = Vector256.Create(a[1]); c1a = Fma.MultiplyAdd(a1, b0, c1a); c1b = Fma.MultiplyAdd(a1, b1, c1b);
            var a2 = Vector256.Create(a[2]); c2a = Fma.MultiplyAdd(a2, b0, c2a); c2b = Fma.MultiplyAdd(a2, b1, c2b);
            var a3 = Vector256.Create(a[3]); c3a = Fma.MultiplyAdd(a3, b0, c3a); c3b = Fma.MultiplyAdd(a3, b1, c3b);
            var a4 = Vector256.Create(a[4]); c4a = Fma.MultiplyAdd(a4, b0, c4a); c4b = Fma.MultiplyAdd(a4, b1, c4b);
            var a5 = Vector256.Create(a[5]); c5a = Fma.MultiplyAdd(a5, b0, c5a); c5b = Fma.MultiplyAdd(a5, b1, c5b);
            a += 6;
            b += 16;
        }
        Store(c + 0 * ldc, c0a, c0b, alpha, accumulate);
        Store(c + 1 * ldc, c1a, c1b, alpha, accumulate);
        Store(c + 2 * ldc, c2a, c2b, alpha, accumulate);
        Store(c + 3 * ldc, c3a, c3b, alpha, accumulate);
        Store(c + 4 * ldc, c4a, c4b, alpha, accumulate);
        Store(c + 5 * ldc, c5a, c5b, alpha, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector256<float> x0, Vector256<float> x1, float alpha, bool accumulate)
    {
        if (alpha != 1f)
        {
            var va = Vector256.Create(alpha);
            x0 *= va;
            x1 *= va;
        }
        if (accumulate)
        {
            x0 += Vector256.Load(c);
            x1 += Vector256.Load(c + 8);
        }
        Vector256.Store(x0, c);
        Vector256.Store(x1, c + 8);
    }
}

/// <summary>Portable scalar kernel: 4 x 4 tile with <see cref="MathF.FusedMultiplyAdd"/>, the fallback and the narrowest test path.</summary>
internal unsafe struct ScalarKernel : IMicroKernel
{
    public static int MR => 4;
    public static int NR => 4;

    public static void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, bool accumulate)
    {
        float* acc = stackalloc float[16];
        for (int i = 0; i < 16; i++) acc[i] = 0f;
        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < 4; i++)
            {
                float ai = a[i];
                acc[i * 4 + 0] = MathF.FusedMultiplyAdd(ai, b[0], acc[i * 4 + 0]);
                acc[i * 4 + 1] = MathF.FusedMultiplyAdd(ai, b[1], acc[i * 4 + 1]);
                acc[i * 4 + 2] = MathF.FusedMultiplyAdd(ai, b[2], acc[i * 4 + 2]);
                acc[i * 4 + 3] = MathF.FusedMultiplyAdd(ai, b[3], acc[i * 4 + 3]);
            }
            a += 4;
            b += 4;
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                float x = alpha != 1f ? alpha * acc[i * 4 + j] : acc[i * 4 + j];
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + x : x;
            }
    }
}
