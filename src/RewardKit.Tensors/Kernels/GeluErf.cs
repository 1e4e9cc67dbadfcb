using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RewardKit.Tensors.Kernels;

/// <summary>
/// The exact GELU of BERT and PyTorch's <c>nn.GELU()</c> (Hugging Face <c>hidden_act: "gelu"</c>):
/// gelu(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)), gelu′(x) = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
/// Span-in/span-out, vectorised through operator structs (scalar, Vector256, Vector512 share one loop), with the naive
/// double-precision <see cref="ForwardReference"/>/<see cref="BackwardReference"/> beside them.
/// </summary>
/// <remarks>
/// Φ is computed through erfc, so neither tail cancels: Φ(x) = ½·erfc(−x/√2), with erfc(z) for z ≥ 0 from the Chebyshev
/// fit t·exp(−z² + P(t)), t = 1/(1 + z/2) (Numerical Recipes' <c>erfcc</c>, fractional error below 1.2·10⁻⁷ everywhere)
/// and erfc(−z) = 2 − erfc(z). So gelu(x) has a relative error of about 10⁻⁷ for every x, below float's resolution of
/// the surrounding arithmetic.
/// </remarks>
public static class GeluErf
{
    const float InvSqrt2 = 0.70710678118654752f;
    const float InvSqrt2Pi = 0.39894228040143268f;

    /// <summary>y = gelu(x). Same lengths; x and y may be the same span.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, Activations.Width width = Activations.Width.Vector512)
    {
        if (y.Length != x.Length) throw new ArgumentException($"GeluErf.Forward: x has {x.Length} elements but y has {y.Length}.");
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (width == Activations.Width.Vector512 && Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                (v * Cdf(v)).StoreUnsafe(ref yr, (nuint)i);
            }
        if (width >= Activations.Width.Vector256 && Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                (v * Cdf(v)).StoreUnsafe(ref yr, (nuint)i);
            }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref xr, i);
            Unsafe.Add(ref yr, i) = v * Cdf(v);
        }
    }

    /// <summary>dx += dy · gelu′(x). All three have the same length.</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, Activations.Width width = Activations.Width.Vector512)
    {
        if (dy.Length != x.Length || dx.Length != x.Length)
            throw new ArgumentException($"GeluErf.Backward: x, dy and dx must have one length, got {x.Length}, {dy.Length} and {dx.Length}.");
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int n = x.Length, i = 0;
        if (width == Activations.Width.Vector512 && Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                var d = Cdf(v) + v * Vector512.Create(InvSqrt2Pi) * Vector512.Exp(Vector512.Create(-0.5f) * v * v);
                (Vector512.LoadUnsafe(ref dr, (nuint)i) + Vector512.LoadUnsafe(ref gr, (nuint)i) * d).StoreUnsafe(ref dr, (nuint)i);
            }
        if (width >= Activations.Width.Vector256 && Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                var d = Cdf(v) + v * Vector256.Create(InvSqrt2Pi) * Vector256.Exp(Vector256.Create(-0.5f) * v * v);
                (Vector256.LoadUnsafe(ref dr, (nuint)i) + Vector256.LoadUnsafe(ref gr, (nuint)i) * d).StoreUnsafe(ref dr, (nuint)i);
            }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref xr, i);
            float d = Cdf(v) + v * InvSqrt2Pi * MathF.Exp(-0.5f * v * v);
            Unsafe.Add(ref dr, i) += Unsafe.Add(ref gr, i) * d;
        }
    }

    /// <summary>The naive reference: y = 0.5·x·erfc(−x/√2) in double.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)(x[i] * 0.5 * ErfcReference(-x[i] / Math.Sqrt(2)));
    }

    /// <summary>The naive reference of the backward: dx += dy·(Φ(x) + x·φ(x)) in double.</summary>
    public static void BackwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            double d = 0.5 * ErfcReference(-v / Math.Sqrt(2)) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
            dx[i] += (float)(dy[i] * d);
        }
    }

    /// <summary>
    /// erfc in double to about 1e-15 relative: the Maclaurin series of erf for |z| &lt; 2, a Lentz continued fraction of
    /// erfc for z ≥ 2, and erfc(−z) = 2 − erfc(z).
    /// </summary>
    public static double ErfcReference(double z)
    {
        if (z < 0) return 2 - ErfcReference(-z);
        if (z < 2)
        {
            double term = z, sum = z;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -z * z / n;
                sum += term / (2 * n + 1);
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        // erfc(z) = e^(−z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + ...)))), evaluated by modified Lentz.
        double tiny = 1e-300, f = z, c = z, d = 0;
        for (int k = 1; k < 500; k++)
        {
            double a = k / 2.0;
            d = z + a * d; if (Math.Abs(d) < tiny) d = tiny; d = 1 / d;
            c = z + a / c; if (Math.Abs(c) < tiny) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
    }

    // Φ(x) = ½·erfc(−x/√2); erfc(z) = t·exp(−z² + P(t)) for z ≥ 0, t = 1/(1 + z/2); erfc(−z) = 2 − erfc(z).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Cdf(float x)
    {
        float z = MathF.Abs(x) * InvSqrt2;
        float t = 1f / (1f + 0.5f * z);
        float half = 0.5f * t * MathF.Exp(-z * z + Polynomial(t));   // ½·erfc(|x|/√2)
        return x >= 0 ? 1f - half : half;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Cdf(Vector256<float> x)
    {
        var z = Vector256.Abs(x) * Vector256.Create(InvSqrt2);
        var t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(0.5f) * z);
        var half = Vector256.Create(0.5f) * t * Vector256.Exp(Polynomial(t) - z * z);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.One - half, half);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Cdf(Vector512<float> x)
    {
        var z = Vector512.Abs(x) * Vector512.Create(InvSqrt2);
        var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(0.5f) * z);
        var half = Vector512.Create(0.5f) * t * Vector512.Exp(Polynomial(t) - z * z);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.One - half, half);
    }

    // P(t) of Numerical Recipes' erfcc, by Horner's rule.
    const float P0 = -1.26551223f, P1 = 1.00002368f, P2 = 0.37409196f, P3 = 0.09678418f, P4 = -0.18628806f,
        P5 = 0.27886807f, P6 = -1.13520398f, P7 = 1.48851587f, P8 = -0.82215223f, P9 = 0.17087277f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Polynomial(float t) =>
        P0 + t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * (P5 + t * (P6 + t * (P7 + t * (P8 + t * P9))))))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Polynomial(Vector256<float> t)
    {
        var p = Vector256.Create(P9);
        p = p * t + Vector256.Create(P8); p = p * t + Vector256.Create(P7); p = p * t + Vector256.Create(P6);
        p = p * t + Vector256.Create(P5); p = p * t + Vector256.Create(P4); p = p * t + Vector256.Create(P3);
        p = p * t + Vector256.Create(P2); p = p * t + Vector256.Create(P1);
        return p * t + Vector256.Create(P0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Polynomial(Vector512<float> t)
    {
        var p = Vector512.Create(P9);
        p = p * t + Vector512.Create(P8); p = p * t + Vector512.Create(P7); p = p * t + Vector512.Create(P6);
        p = p * t + Vector512.Create(P5); p = p * t + Vector512.Create(P4); p = p * t + Vector512.Create(P3);
        p = p * t + Vector512.Create(P2); p = p * t + Vector512.Create(P1);
        return p * t + Vector512.Create(P0);
    }
}
