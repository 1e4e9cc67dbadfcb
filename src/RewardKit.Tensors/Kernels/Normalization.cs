using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RewardKit.Tensors.Kernels;

/// <summary>
/// Layer normalisation of one row (C channels), span-in/span-out: the forward in three sweeps over a row that stays in L1
/// (sum, squared deviations, then y written once) and the backward in two (the row statistics and dweight / dbias, then dx),
/// recomputing the normalised row instead of storing it. A naive double-precision <c>Reference</c> sits beside each.
/// </summary>
/// <remarks>
/// y = (x − μ)·r·w + b with μ = mean(x), r = 1/√(var(x) + ε) (biased variance, as PyTorch). With n = (x − μ)·r and
/// g = w ⊙ dy: dx = r·(g − mean(g) − n·mean(g ⊙ n)), dw = Σ_rows n ⊙ dy, db = Σ_rows dy.
/// </remarks>
public static class Normalization
{
    /// <summary>y = layer_norm(x)·w + b for one row; returns the row's mean and rstd (kept for the backward). All spans have one length.</summary>
    public static (float Mean, float Rstd) LayerNormForward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b,
        Span<float> y, float eps, Activations.Width width)
    {
        int c = x.Length;
        if (w.Length != c || b.Length != c || y.Length != c)
            throw new ArgumentException($"LayerNormForward: x, w, b and y must have one length, got {c}, {w.Length}, {b.Length} and {y.Length}.");
        if (c == 0) return (0f, 1f / MathF.Sqrt(eps));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float yr = ref MemoryMarshal.GetReference(y);
        bool v512 = width == Activations.Width.Vector512 && Vector512.IsHardwareAccelerated;
        bool v256 = width >= Activations.Width.Vector256 && Vector256.IsHardwareAccelerated;

        // Sweep 1: the mean.
        int i = 0;
        float sum = 0f;
        if (v512)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= c - 16; i += 16) acc += Vector512.LoadUnsafe(ref xr, (nuint)i);
            sum += Vector512.Sum(acc);
        }
        if (v256)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= c - 8; i += 8) acc += Vector256.LoadUnsafe(ref xr, (nuint)i);
            sum += Vector256.Sum(acc);
        }
        for (; i < c; i++) sum += Unsafe.Add(ref xr, i);
        float mean = sum / c;

        // Sweep 2: the biased variance, two-pass (no cancellation).
        i = 0;
        float squares = 0f;
        if (v512)
        {
            var m = Vector512.Create(mean);
            var acc = Vector512<float>.Zero;
            for (; i <= c - 16; i += 16) { var d = Vector512.LoadUnsafe(ref xr, (nuint)i) - m; acc += d * d; }
            squares += Vector512.Sum(acc);
        }
        if (v256)
        {
            var m = Vector256.Create(mean);
            var acc = Vector256<float>.Zero;
            for (; i <= c - 8; i += 8) { var d = Vector256.LoadUnsafe(ref xr, (nuint)i) - m; acc += d * d; }
            squares += Vector256.Sum(acc);
        }
        for (; i < c; i++) { float d = Unsafe.Add(ref xr, i) - mean; squares += d * d; }
        float rstd = 1f / MathF.Sqrt(squares / c + eps);

        // Sweep 3: y = (x − μ)·r·w + b.
        i = 0;
        if (v512)
        {
            var m = Vector512.Create(mean);
            var r = Vector512.Create(rstd);
            for (; i <= c - 16; i += 16)
                ((Vector512.LoadUnsafe(ref xr, (nuint)i) - m) * r * Vector512.LoadUnsafe(ref wr, (nuint)i) + Vector512.LoadUnsafe(ref br, (nuint)i))
                    .StoreUnsafe(ref yr, (nuint)i);
        }
        if (v256)
        {
            var m = Vector256.Create(mean);
            var r = Vector256.Create(rstd);
            for (; i <= c - 8; i += 8)
                ((Vector256.LoadUnsafe(ref xr, (nuint)i) - m) * r * Vector256.LoadUnsafe(ref wr, (nuint)i) + Vector256.LoadUnsafe(ref br, (nuint)i))
                    .StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < c; i++) Unsafe.Add(ref yr, i) = (Unsafe.Add(ref xr, i) - mean) * rstd * Unsafe.Add(ref wr, i) + Unsafe.Add(ref br, i);
        return (mean, rstd);
    }

    /// <summary>
    /// The backward of <see cref="LayerNormForward"/> for one row: dw += n ⊙ dy, db += dy, and (unless <paramref name="dx"/> is
    /// empty) dx += r·(g − mean(g) − n·mean(g ⊙ n)) with n = (x − μ)·r, g = w ⊙ dy.
    /// </summary>
    public static void LayerNormBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, float mean, float rstd,
        Span<float> dx, Span<float> dw, Span<float> db, Activations.Width width)
    {
        int c = x.Length;
        if (dy.Length != c || w.Length != c || dw.Length != c || db.Length != c || (dx.Length != 0 && dx.Length != c))
            throw new ArgumentException($"LayerNormBackward: x, dy, w, dw, db (and dx unless empty) must have one length, got {c}, {dy.Length}, {w.Length}, {dw.Length}, {db.Length} and {dx.Length}.");
        if (c == 0) return;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float dwr = ref MemoryMarshal.GetReference(dw);
        ref float dbr = ref MemoryMarshal.GetReference(db);
        bool v512 = width == Activations.Width.Vector512 && Vector512.IsHardwareAccelerated;
        bool v256 = width >= Activations.Width.Vector256 && Vector256.IsHardwareAccelerated;

        // Sweep 1: Σ g, Σ g·n, and the parameter gradients.
        int i = 0;
        float sumG = 0f, sumGn = 0f;
        if (v512)
        {
            var m = Vector512.Create(mean);
            var r = Vector512.Create(rstd);
            Vector512<float> accG = default, accGn = default;
            for (; i <= c - 16; i += 16)
            {
                var n = (Vector512.LoadUnsafe(ref xr, (nuint)i) - m) * r;
                var d = Vector512.LoadUnsafe(ref gr, (nuint)i);
                var g = Vector512.LoadUnsafe(ref wr, (nuint)i) * d;
                accG += g;
                accGn += g * n;
                (Vector512.LoadUnsafe(ref dwr, (nuint)i) + n * d).StoreUnsafe(ref dwr, (nuint)i);
                (Vector512.LoadUnsafe(ref dbr, (nuint)i) + d).StoreUnsafe(ref dbr, (nuint)i);
            }
            sumG += Vector512.Sum(accG);
            sumGn += Vector512.Sum(accGn);
        }
        if (v256)
        {
            var m = Vector256.Create(mean);
            var r = Vector256.Create(rstd);
            Vector256<float> accG = default, accGn = default;
            for (; i <= c - 8; i += 8)
            {
                var n = (Vector256.LoadUnsafe(ref xr, (nuint)i) - m) * r;
                var d = Vector256.LoadUnsafe(ref gr, (nuint)i);
                var g = Vector256.LoadUnsafe(ref wr, (nuint)i) * d;
                accG += g;
                accGn += g * n;
                (Vector256.LoadUnsafe(ref dwr, (nuint)i) + n * d).StoreUnsafe(ref dwr, (nuint)i);
                (Vector256.LoadUnsafe(ref dbr, (nuint)i) + d).StoreUnsafe(ref dbr, (nuint)i);
            }
            sumG += Vector256.Sum(accG);
            sumGn += Vector256.Sum(accGn);
        }
        for (; i < c; i++)
        {
            float n = (Unsafe.Add(ref xr, i) - mean) * rstd;
            float d = Unsafe.Add(ref gr, i);
            float g = Unsafe.Add(ref wr, i) * d;
            sumG += g;
            sumGn += g * n;
            Unsafe.Add(ref dwr, i) += n * d;
            Unsafe.Add(ref dbr, i) += d;
        }
        if (dx.Length == 0) return;

        // Sweep 2: dx += r·(g − mean(g) − n·mean(g·n)).
        float meanG = sumG / c, meanGn = sumGn / c;
        ref float dxr = ref MemoryMarshal.GetReference(dx);
        i = 0;
        if (v512)
        {
            var m = Vector512.Create(mean);
            var r = Vector512.Create(rstd);
            var mg = Vector512.Create(meanG);
            var mgn = Vector512.Create(meanGn);
            for (; i <= c - 16; i += 16)
            {
                var n = (Vector512.LoadUnsafe(ref xr, (nuint)i) - m) * r;
                var g = Vector512.LoadUnsafe(ref wr, (nuint)i) * Vector512.LoadUnsafe(ref gr, (nuint)i);
                (Vector512.LoadUnsafe(ref dxr, (nuint)i) + (g - mg - n * mgn) * r).StoreUnsafe(ref dxr, (nuint)i);
            }
        }
        if (v256)
        {
            var m = Vector256.Create(mean);
            var r = Vector256.Create(rstd);
            var mg = Vector256.Create(meanG);
            var mgn = Vector256.Create(meanGn);
            for (; i <= c - 8; i += 8)
            {
                var n = (Vector256.LoadUnsafe(ref xr, (nuint)i) - m) * r;
                var g = Vector256.LoadUnsafe(ref wr, (nuint)i) * Vector256.LoadUnsafe(ref gr, (nuint)i);
                (Vector256.LoadUnsafe(ref dxr, (nuint)i) + (g - mg - n * mgn) * r).StoreUnsafe(ref dxr, (nuint)i);
            }
        }
        for (; i < c; i++)
        {
            float n = (Unsafe.Add(ref xr, i) - mean) * rstd;
            float g = Unsafe.Add(ref wr, i) * Unsafe.Add(ref gr, i);
            Unsafe.Add(ref dxr, i) += (g - meanG - n * meanGn) * rstd;
        }
    }

    /// <summary>The naive reference of <see cref="LayerNormForward"/> in double.</summary>
    public static (float Mean, float Rstd) LayerNormForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, float eps)
    {
        int c = x.Length;
        double mean = 0, variance = 0;
        for (int i = 0; i < c; i++) mean += x[i];
        mean /= Math.Max(c, 1);
        for (int i = 0; i < c; i++) variance += (x[i] - mean) * (x[i] - mean);
        double rstd = 1 / Math.Sqrt(variance / Math.Max(c, 1) + eps);
        for (int i = 0; i < c; i++) y[i] = (float)((x[i] - mean) * rstd * w[i] + b[i]);
        return ((float)mean, (float)rstd);
    }

    /// <summary>The naive reference of <see cref="LayerNormBackward"/> in double (statistics recomputed from x).</summary>
    public static void LayerNormBackwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, float eps,
        Span<float> dx, Span<float> dw, Span<float> db)
    {
        int c = x.Length;
        if (c == 0) return;
        double mean = 0, variance = 0;
        for (int i = 0; i < c; i++) mean += x[i];
        mean /= c;
        for (int i = 0; i < c; i++) variance += (x[i] - mean) * (x[i] - mean);
        double rstd = 1 / Math.Sqrt(variance / c + eps);
        double sumG = 0, sumGn = 0;
        for (int i = 0; i < c; i++)
        {
            double n = (x[i] - mean) * rstd, g = (double)w[i] * dy[i];
            sumG += g;
            sumGn += g * n;
            dw[i] += (float)(n * dy[i]);
            db[i] += dy[i];
        }
        if (dx.Length == 0) return;
        for (int i = 0; i < c; i++)
        {
            double n = (x[i] - mean) * rstd, g = (double)w[i] * dy[i];
            dx[i] += (float)((g - sumG / c - n * sumGn / c) * rstd);
        }
    }
}
