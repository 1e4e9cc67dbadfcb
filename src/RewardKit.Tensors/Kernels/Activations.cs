using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RewardKit.Tensors.Kernels;

/// <summary>
/// Span-in/span-out activation kernels: GELU (tanh approximation, GPT-2's gelu_new) forward and backward, vectorised
/// through an operator struct whose scalar, Vector256 and Vector512 forms share one loop; softplus and log-sigmoid
/// in a form that is exact for large |x|. Each fast kernel has a naive double-precision <c>Reference</c> beside it.
/// </summary>
/// <remarks>
/// gelu_new(x) = 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³). Since 0.5·(1 + tanh u) = σ(2u), the kernels compute
/// y = x·σ(2u) = x / (1 + e^(−2u)), which needs one exp and stays finite for every finite x (e^(−2u) overflows to +∞ for
/// very negative x, giving −0, the correct limit). dy/dx = s + 2·x·s·(1 − s)·u′ with s = σ(2u), u′ = √(2/π)·(1 + 3·0.044715·x²).
/// </remarks>
public static class Activations
{
    /// <summary>Which instruction width a kernel uses; <see cref="Best"/> picks the widest the machine accelerates.</summary>
    public enum Width
    {
        /// <summary>One element at a time.</summary>
        Scalar,
        /// <summary>8 floats per instruction (AVX2).</summary>
        Vector256,
        /// <summary>16 floats per instruction (AVX-512).</summary>
        Vector512,
    }

    /// <summary>The widest width accelerated on this machine.</summary>
    public static Width Best =>
        Vector512.IsHardwareAccelerated ? Width.Vector512 : Vector256.IsHardwareAccelerated ? Width.Vector256 : Width.Scalar;

    const float Sqrt2OverPi = 0.7978845608028654f;
    const float Coefficient = 0.044715f;

    /// <summary>y = gelu_new(x). <paramref name="x"/> and <paramref name="y"/> have the same length (they may be the same span).</summary>
    public static void GeluForward(ReadOnlySpan<float> x, Span<float> y) => GeluForward(x, y, Best);

    /// <summary><see cref="GeluForward(ReadOnlySpan{float}, Span{float})"/> at a chosen width (tests force the narrower paths).</summary>
    public static void GeluForward(ReadOnlySpan<float> x, Span<float> y, Width width)
    {
        if (y.Length != x.Length) throw new ArgumentException($"GeluForward: x has {x.Length} elements but y has {y.Length}.");
        Unary<GeluForwardOp>(x, y, width);
    }

    /// <summary>dx += dy · gelu_new′(x). All three have the same length.</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => GeluBackward(x, dy, dx, Best);

    /// <summary><see cref="GeluBackward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> at a chosen width.</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, Width width)
    {
        if (dy.Length != x.Length || dx.Length != x.Length)
            throw new ArgumentException($"GeluBackward: x, dy and dx must have one length, got {x.Length}, {dy.Length} and {dx.Length}.");
        Binary<GeluBackwardOp>(x, dy, dx, width);
    }

    /// <summary>
    /// Bias + GELU of one row, one pass: <paramref name="pre"/>[i] += <paramref name="bias"/>[i] (kept for the backward),
    /// then y[i] = gelu_new(pre[i]). All three have the same length.
    /// </summary>
    public static void BiasGeluForward(Span<float> pre, ReadOnlySpan<float> bias, Span<float> y, Width width)
    {
        if (bias.Length != pre.Length || y.Length != pre.Length)
            throw new ArgumentException($"BiasGeluForward: pre, bias and y must have one length, got {pre.Length}, {bias.Length} and {y.Length}.");
        ref float pr = ref MemoryMarshal.GetReference(pre);
        ref float br = ref MemoryMarshal.GetReference(bias);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = pre.Length, i = 0;
        if (width == Width.Vector512 && Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var z = Vector512.LoadUnsafe(ref pr, (nuint)i) + Vector512.LoadUnsafe(ref br, (nuint)i);
                z.StoreUnsafe(ref pr, (nuint)i);
                GeluForwardOp.Invoke(z).StoreUnsafe(ref yr, (nuint)i);
            }
        if (width >= Width.Vector256 && Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var z = Vector256.LoadUnsafe(ref pr, (nuint)i) + Vector256.LoadUnsafe(ref br, (nuint)i);
                z.StoreUnsafe(ref pr, (nuint)i);
                GeluForwardOp.Invoke(z).StoreUnsafe(ref yr, (nuint)i);
            }
        for (; i < n; i++)
        {
            float z = Unsafe.Add(ref pr, i) + Unsafe.Add(ref br, i);
            Unsafe.Add(ref pr, i) = z;
            Unsafe.Add(ref yr, i) = GeluForwardOp.Invoke(z);
        }
    }

    /// <summary>
    /// The backward of <see cref="BiasGeluForward"/> for one row, one pass: dpre[i] = dy[i]·gelu_new′(pre[i]) (written, not
    /// added: the pre-activation has no other reader) and dbias[i] += dpre[i]. All five spans have the same length.
    /// </summary>
    public static void BiasGeluBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> dy, Span<float> dpre, Span<float> dbias, Width width)
    {
        if (dy.Length != pre.Length || dpre.Length != pre.Length || dbias.Length != pre.Length)
            throw new ArgumentException($"BiasGeluBackward: pre, dy, dpre and dbias must have one length, got {pre.Length}, {dy.Length}, {dpre.Length} and {dbias.Length}.");
        ref float pr = ref MemoryMarshal.GetReference(pre);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float dr = ref MemoryMarshal.GetReference(dpre);
        ref float br = ref MemoryMarshal.GetReference(dbias);
        int n = pre.Length, i = 0;
        if (width == Width.Vector512 && Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var d = Vector512.LoadUnsafe(ref gr, (nuint)i) * GeluDerivative(Vector512.LoadUnsafe(ref pr, (nuint)i));
                d.StoreUnsafe(ref dr, (nuint)i);
                (Vector512.LoadUnsafe(ref br, (nuint)i) + d).StoreUnsafe(ref br, (nuint)i);
            }
        if (width >= Width.Vector256 && Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var d = Vector256.LoadUnsafe(ref gr, (nuint)i) * GeluDerivative(Vector256.LoadUnsafe(ref pr, (nuint)i));
                d.StoreUnsafe(ref dr, (nuint)i);
                (Vector256.LoadUnsafe(ref br, (nuint)i) + d).StoreUnsafe(ref br, (nuint)i);
            }
        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref gr, i) * GeluDerivative(Unsafe.Add(ref pr, i));
            Unsafe.Add(ref dr, i) = d;
            Unsafe.Add(ref br, i) += d;
        }
    }

    /// <summary>The naive reference of <see cref="BiasGeluForward"/>: pre += bias, y = gelu_new(pre) in double.</summary>
    public static void BiasGeluForwardReference(Span<float> pre, ReadOnlySpan<float> bias, Span<float> y)
    {
        for (int i = 0; i < pre.Length; i++) pre[i] += bias[i];
        GeluForwardReference(pre, y);
    }

    /// <summary>The naive reference of <see cref="BiasGeluBackward"/>: dpre = dy·gelu_new′(pre), dbias += dpre in double.</summary>
    public static void BiasGeluBackwardReference(ReadOnlySpan<float> pre, ReadOnlySpan<float> dy, Span<float> dpre, Span<float> dbias)
    {
        dpre.Clear();
        GeluBackwardReference(pre, dy, dpre);
        for (int i = 0; i < pre.Length; i++) dbias[i] += dpre[i];
    }

    /// <summary>The naive reference: y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) in double.</summary>
    public static void GeluForwardReference(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            y[i] = (float)(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
        }
    }

    /// <summary>The naive reference of the backward: dx += dy·(0.5·(1 + t) + 0.5·x·(1 − t²)·u′) in double.</summary>
    public static void GeluBackwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            double t = Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v));
            double du = Math.Sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * v * v);
            dx[i] += (float)(dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du));
        }
    }

    /// <summary>softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|): no overflow, and e^x for very negative x.</summary>
    public static void Softplus(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)Softplus((double)x[i]);
    }

    /// <summary>log σ(x) = −softplus(−x) = min(x, 0) − log1p(e^−|x|).</summary>
    public static void LogSigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)-Softplus(-(double)x[i]);
    }

    /// <summary>log σ(x) = −softplus(−x) in double, stable for large |x|.</summary>
    public static double LogSigmoid(double x) => -Softplus(-x);

    /// <summary>softplus in double; exact to rounding for every x (log1p is computed so that tiny e^−|x| is not lost).</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + Log1p(Math.Exp(-Math.Abs(x)));

    /// <summary>log(1 + u) accurate for small u (Goldberg's correction: the rounding of 1 + u cancels).</summary>
    public static double Log1p(double u)
    {
        double w = 1 + u;
        return w == 1 ? u : Math.Log(w) * (u / (w - 1));
    }

    /// <summary>σ(x) in double, stable for either sign.</summary>
    public static double Sigmoid(double x)
    {
        if (x >= 0) return 1 / (1 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1 + e);
    }

    // ---- operator structs and the one loop ------------------------------------------------------------------------

    interface IUnaryOp
    {
        static abstract float Invoke(float x);
        static abstract Vector256<float> Invoke(Vector256<float> x);
        static abstract Vector512<float> Invoke(Vector512<float> x);
    }

    interface IBinaryOp
    {
        /// <summary>Returns the new value of the third operand (an accumulator) from a, b and its old value.</summary>
        static abstract float Invoke(float a, float b, float acc);
        static abstract Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> acc);
        static abstract Vector512<float> Invoke(Vector512<float> a, Vector512<float> b, Vector512<float> acc);
    }

    static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> y, Width width) where TOp : IUnaryOp
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (width == Width.Vector512 && Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                TOp.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        if (width >= Width.Vector256 && Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref yr, i) = TOp.Invoke(Unsafe.Add(ref xr, i));
    }

    static void Binary<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> acc, Width width) where TOp : IBinaryOp
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float cr = ref MemoryMarshal.GetReference(acc);
        int n = a.Length, i = 0;
        if (width == Width.Vector512 && Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                TOp.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i), Vector512.LoadUnsafe(ref cr, (nuint)i))
                    .StoreUnsafe(ref cr, (nuint)i);
        if (width >= Width.Vector256 && Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                TOp.Invoke(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i), Vector256.LoadUnsafe(ref cr, (nuint)i))
                    .StoreUnsafe(ref cr, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref cr, i) = TOp.Invoke(Unsafe.Add(ref ar, i), Unsafe.Add(ref br, i), Unsafe.Add(ref cr, i));
    }

    readonly struct GeluForwardOp : IUnaryOp
    {
        public static float Invoke(float x)
        {
            float u2 = -2f * Sqrt2OverPi * (x + Coefficient * x * x * x);
            return x / (1f + MathF.Exp(u2));
        }

        public static Vector256<float> Invoke(Vector256<float> x)
        {
            var u2 = Vector256.Create(-2f * Sqrt2OverPi) * (x + Vector256.Create(Coefficient) * x * x * x);
            return x / (Vector256<float>.One + Vector256.Exp(u2));
        }

        public static Vector512<float> Invoke(Vector512<float> x)
        {
            var u2 = Vector512.Create(-2f * Sqrt2OverPi) * (x + Vector512.Create(Coefficient) * x * x * x);
            return x / (Vector512<float>.One + Vector512.Exp(u2));
        }
    }

    readonly struct GeluBackwardOp : IBinaryOp
    {
        public static float Invoke(float x, float dy, float dx) => dx + dy * GeluDerivative(x);

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy, Vector256<float> dx) => dx + dy * GeluDerivative(x);

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy, Vector512<float> dx) => dx + dy * GeluDerivative(x);
    }

    // gelu_new′(x) = s + 2·x·s·(1 − s)·u′, s = σ(2u), u′ = √(2/π)·(1 + 3·0.044715·x²).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float GeluDerivative(float x)
    {
        float x2 = x * x;
        float s = 1f / (1f + MathF.Exp(-2f * Sqrt2OverPi * (x + Coefficient * x2 * x)));
        float du = Sqrt2OverPi * (1f + 3f * Coefficient * x2);
        return s + 2f * x * s * (1f - s) * du;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> GeluDerivative(Vector256<float> x)
    {
        var one = Vector256<float>.One;
        var x2 = x * x;
        var s = one / (one + Vector256.Exp(Vector256.Create(-2f * Sqrt2OverPi) * (x + Vector256.Create(Coefficient) * x2 * x)));
        var du = Vector256.Create(Sqrt2OverPi) * (one + Vector256.Create(3f * Coefficient) * x2);
        return s + Vector256.Create(2f) * x * s * (one - s) * du;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> GeluDerivative(Vector512<float> x)
    {
        var one = Vector512<float>.One;
        var x2 = x * x;
        var s = one / (one + Vector512.Exp(Vector512.Create(-2f * Sqrt2OverPi) * (x + Vector512.Create(Coefficient) * x2 * x)));
        var du = Vector512.Create(Sqrt2OverPi) * (one + Vector512.Create(3f * Coefficient) * x2);
        return s + Vector512.Create(2f) * x * s * (one - s) * du;
    }
}
