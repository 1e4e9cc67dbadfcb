using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Width = RewardKit.Tensors.Kernels.Activations.Width;

namespace RewardKit.Tensors.Kernels;

/// <summary>
/// Span-in/span-out kernels behind the optimisers and gradient clipping: the Adam/AdamW element update and a sum of
/// squares accumulated in double. Each has a scalar <c>Reference</c> beside it.
/// </summary>
/// <remarks>
/// The Adam update is elementwise and written with separate multiplies and adds (no fused multiply-add) in the same order
/// as the reference, so every width gives bit-identical results. <see cref="SumOfSquares(ReadOnlySpan{float}, Width)"/>
/// keeps 16 double partial sums (element i goes to partial i mod 16) whatever the width and adds them in a fixed tree,
/// so its result does not depend on the width either; x² of a float is exact in double, so the only rounding is in the adds.
/// </remarks>
public static class OptimizerKernels
{
    /// <summary>
    /// The scalars of one Adam-family step. Per element: g' = g + <see cref="L2"/>·p; p ·= <see cref="Keep"/>;
    /// m = β1·m + (1−β1)·g'; v = β2·v + (1−β2)·g'·g'; p −= <see cref="StepSize"/>·m / (√v / <see cref="Bias2Sqrt"/> + ε).
    /// </summary>
    /// <param name="Beta1">β1.</param>
    /// <param name="Beta2">β2.</param>
    /// <param name="Eps">ε, added to the bias-corrected √v.</param>
    /// <param name="StepSize">lr / (1 − β1ᵗ).</param>
    /// <param name="Bias2Sqrt">√(1 − β2ᵗ).</param>
    /// <param name="Keep">Decoupled decay multiplier 1 − lr·wd (AdamW), 1 for none.</param>
    /// <param name="L2">Weight decay added to the gradient (Adam), 0 for none.</param>
    public readonly record struct AdamCoefficients(float Beta1, float Beta2, float Eps, float StepSize, float Bias2Sqrt, float Keep, float L2);

    /// <summary>One Adam/AdamW step over equal-length spans, with the widest accelerated width.</summary>
    /// <param name="p">Parameters (n), updated.</param>
    /// <param name="g">Gradients (n).</param>
    /// <param name="m">First moments (n), updated.</param>
    /// <param name="v">Second moments (n), updated.</param>
    /// <param name="c">The step's scalars.</param>
    public static void AdamStep(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in AdamCoefficients c) =>
        AdamStep(p, g, m, v, c, Activations.Best);

    /// <summary>One Adam/AdamW step using at most <paramref name="width"/> (tests force the narrower paths).</summary>
    public static void AdamStep(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in AdamCoefficients c, Width width)
    {
        if (g.Length != p.Length || m.Length != p.Length || v.Length != p.Length)
            throw new ArgumentException($"AdamStep: p, g, m and v need the same length, got {p.Length}, {g.Length}, {m.Length} and {v.Length}.");
        int n = p.Length, i = 0;
        ref float pr = ref MemoryMarshal.GetReference(p);
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float mr = ref MemoryMarshal.GetReference(m);
        ref float vr = ref MemoryMarshal.GetReference(v);
        bool coupled = c.L2 != 0;
        if (width == Width.Vector512 && Vector512.IsHardwareAccelerated)
        {
            var b1 = Vector512.Create(c.Beta1); var a1 = Vector512.Create(1 - c.Beta1);
            var b2 = Vector512.Create(c.Beta2); var a2 = Vector512.Create(1 - c.Beta2);
            var eps = Vector512.Create(c.Eps); var step = Vector512.Create(c.StepSize); var bc2 = Vector512.Create(c.Bias2Sqrt);
            var keep = Vector512.Create(c.Keep); var l2 = Vector512.Create(c.L2);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var gi = Vector512.LoadUnsafe(ref gr, (nuint)i);
                var pi = Vector512.LoadUnsafe(ref pr, (nuint)i);
                if (coupled) gi += l2 * pi;
                pi *= keep;
                var mi = b1 * Vector512.LoadUnsafe(ref mr, (nuint)i) + a1 * gi;
                var vi = b2 * Vector512.LoadUnsafe(ref vr, (nuint)i) + a2 * gi * gi;
                pi -= step * mi / (Vector512.Sqrt(vi) / bc2 + eps);
                mi.StoreUnsafe(ref mr, (nuint)i);
                vi.StoreUnsafe(ref vr, (nuint)i);
                pi.StoreUnsafe(ref pr, (nuint)i);
            }
        }
        if (width >= Width.Vector256 && Vector256.IsHardwareAccelerated)
        {
            var b1 = Vector256.Create(c.Beta1); var a1 = Vector256.Create(1 - c.Beta1);
            var b2 = Vector256.Create(c.Beta2); var a2 = Vector256.Create(1 - c.Beta2);
            var eps = Vector256.Create(c.Eps); var step = Vector256.Create(c.StepSize); var bc2 = Vector256.Create(c.Bias2Sqrt);
            var keep = Vector256.Create(c.Keep); var l2 = Vector256.Create(c.L2);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var gi = Vector256.LoadUnsafe(ref gr, (nuint)i);
                var pi = Vector256.LoadUnsafe(ref pr, (nuint)i);
                if (coupled) gi += l2 * pi;
                pi *= keep;
                var mi = b1 * Vector256.LoadUnsafe(ref mr, (nuint)i) + a1 * gi;
                var vi = b2 * Vector256.LoadUnsafe(ref vr, (nuint)i) + a2 * gi * gi;
                pi -= step * mi / (Vector256.Sqrt(vi) / bc2 + eps);
                mi.StoreUnsafe(ref mr, (nuint)i);
                vi.StoreUnsafe(ref vr, (nuint)i);
                pi.StoreUnsafe(ref pr, (nuint)i);
            }
        }
        if (i < n) AdamStepReference(p[i..], g[i..], m[i..], v[i..], c);
    }

    /// <summary>The scalar reference for <see cref="AdamStep(Span{float}, ReadOnlySpan{float}, Span{float}, Span{float}, in AdamCoefficients)"/>.</summary>
    public static void AdamStepReference(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in AdamCoefficients c)
    {
        float b1 = c.Beta1, b2 = c.Beta2, eps = c.Eps, stepSize = c.StepSize, bc2Sqrt = c.Bias2Sqrt, keep = c.Keep, l2 = c.L2;
        bool coupled = l2 != 0;
        for (int i = 0; i < p.Length; i++)
        {
            float gi = g[i];
            if (coupled) gi += l2 * p[i];
            p[i] *= keep;
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            p[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / bc2Sqrt + eps);
        }
    }

    const int Partials = 16;

    /// <summary>Σ x² accumulated in double, with the widest accelerated width (the result is the same for every width).</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x) => SumOfSquares(x, Activations.Best);

    /// <summary>Σ x² accumulated in double using at most <paramref name="width"/>; bit-identical for every width.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x, Width width)
    {
        // Partial k holds Σ x[i]² over i ≡ k (mod 16), summed in index order; then a fixed pairwise tree.
        Span<double> s = stackalloc double[Partials];
        s.Clear();
        int n = x.Length, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        if (width == Width.Vector512 && Vector512.IsHardwareAccelerated && n >= Partials)
        {
            Vector512<double> lo = Vector512<double>.Zero, hi = Vector512<double>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var (l, h) = Vector512.Widen(Vector512.LoadUnsafe(ref xr, (nuint)i));
                lo += l * l;
                hi += h * h;
            }
            lo.CopyTo(s);
            hi.CopyTo(s[8..]);
        }
        else if (width >= Width.Vector256 && Vector256.IsHardwareAccelerated && n >= Partials)
        {
            Vector256<double> a = Vector256<double>.Zero, b = Vector256<double>.Zero, c = Vector256<double>.Zero, d = Vector256<double>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var (l0, h0) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, (nuint)i));
                var (l1, h1) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, (nuint)(i + 8)));
                a += l0 * l0;
                b += h0 * h0;
                c += l1 * l1;
                d += h1 * h1;
            }
            a.CopyTo(s);
            b.CopyTo(s[4..]);
            c.CopyTo(s[8..]);
            d.CopyTo(s[12..]);
        }
        for (; i < n; i++)
        {
            double xi = x[i];
            s[i % Partials] += xi * xi;
        }
        return Combine(s);
    }

    /// <summary>The scalar reference for <see cref="SumOfSquares(ReadOnlySpan{float})"/> (the same partials and tree).</summary>
    public static double SumOfSquaresReference(ReadOnlySpan<float> x)
    {
        Span<double> s = stackalloc double[Partials];
        s.Clear();
        for (int i = 0; i < x.Length; i++)
        {
            double xi = x[i];
            s[i % Partials] += xi * xi;
        }
        return Combine(s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static double Combine(Span<double> s)
    {
        for (int width = Partials / 2; width >= 1; width /= 2)
            for (int k = 0; k < width; k++) s[k] += s[k + width];
        return s[0];
    }
}
