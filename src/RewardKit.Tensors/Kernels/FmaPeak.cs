using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RewardKit.Tensors.Kernels;

/// <summary>
/// Measures this CPU's fp32 multiply-add peak with a pure-FMA loop (no memory traffic), so GEMM throughput can be
/// reported as a fraction of what the cores really sustain rather than of a nominal clock.
/// </summary>
public static class FmaPeak
{
    /// <summary>FLOP per iteration of the loop: 16 independent FMA chains (enough to cover latency x throughput).</summary>
    const int Chains = 16;

    /// <summary>Best GFLOP/s of <paramref name="seconds"/> of FMA loops on every thread of <paramref name="pool"/>.</summary>
    /// <param name="pool">The threads to load; the result sums over them.</param>
    /// <param name="isa">Vector width to measure (<see cref="GemmIsa.Auto"/>: the widest).</param>
    /// <param name="seconds">Measuring time per repeat (three repeats, best kept).</param>
    public static double MeasureGflops(WorkerPool pool, GemmIsa isa = GemmIsa.Auto, double seconds = 0.2)
    {
        ArgumentNullException.ThrowIfNull(pool);
        isa = isa == GemmIsa.Auto ? Gemm.BestIsa : isa;
        if (!Gemm.IsSupported(isa))
            throw new ArgumentException($"FmaPeak: this CPU cannot run {isa}.", nameof(isa));
        int lanes = isa switch { GemmIsa.Avx512 => 16, GemmIsa.Avx2 => 8, _ => 1 };
        const long iterations = 1 << 20;
        var job = new Job { Isa = isa, Iterations = iterations };
        pool.Run(ref job);                                   // warm up (JIT, clocks)
        double best = 0;
        for (int repeat = 0; repeat < 3; repeat++)
        {
            long calls = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                pool.Run(ref job);
                calls++;
            }
            double flop = 2.0 * Chains * lanes * iterations * calls * pool.Threads;
            best = Math.Max(best, flop / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    struct Job : IThreadWork
    {
        public GemmIsa Isa;
        public long Iterations;
        public float Sink;

        public void Execute(int thread, int threads, int slot)
        {
            float r = Isa switch
            {
                GemmIsa.Avx512 => Loop512(Iterations),
                GemmIsa.Avx2 => Loop256(Iterations),
                _ => LoopScalar(Iterations),
            };
            if (r == 42f) Sink = r;                           // keeps the loop observable
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Loop512(long iterations)
    {
        var x = Vector512.Create(0.999f);
        var y = Vector512.Create(1e-7f);
        Vector512<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x;
        Vector512<float> a8 = x, a9 = x, a10 = x, a11 = x, a12 = x, a13 = x, a14 = x, a15 = x;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, x, y); a1 = Avx512F.FusedMultiplyAdd(a1, x, y);
            a2 = Avx512F.FusedMultiplyAdd(a2, x, y); a3 = Avx512F.FusedMultiplyAdd(a3, x, y);
            a4 = Avx512F.FusedMultiplyAdd(a4, x, y); a5 = Avx512F.FusedMultiplyAdd(a5, x, y);
            a6 = Avx512F.FusedMultiplyAdd(a6, x, y); a7 = Avx512F.FusedMultiplyAdd(a7, x, y);
            a8 = Avx512F.FusedMultiplyAdd(a8, x, y); a9 = Avx512F.FusedMultiplyAdd(a9, x, y);
            a10 = Avx512F.FusedMultiplyAdd(a10, x, y); a11 = Avx512F.FusedMultiplyAdd(a11, x, y);
            a12 = Avx512F.FusedMultiplyAdd(a12, x, y); a13 = Avx512F.FusedMultiplyAdd(a13, x, y);
            a14 = Avx512F.FusedMultiplyAdd(a14, x, y); a15 = Avx512F.FusedMultiplyAdd(a15, x, y);
        }
        var s = (a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7) + (a8 + a9) + (a10 + a11) + (a12 + a13) + (a14 + a15);
        return Vector512.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Loop256(long iterations)
    {
        var x = Vector256.Create(0.999f);
        var y = Vector256.Create(1e-7f);
        Vector256<float> a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x;
        Vector256<float> a8 = x, a9 = x, a10 = x, a11 = x, a12 = x, a13 = x, a14 = x, a15 = x;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Fma.MultiplyAdd(a0, x, y); a1 = Fma.MultiplyAdd(a1, x, y);
            a2 = Fma.MultiplyAdd(a2, x, y); a3 = Fma.MultiplyAdd(a3, x, y);
            a4 = Fma.MultiplyAdd(a4, x, y); a5 = Fma.MultiplyAdd(a5, x, y);
            a6 = Fma.MultiplyAdd(a6, x, y); a7 = Fma.MultiplyAdd(a7, x, y);
            a8 = Fma.MultiplyAdd(a8, x, y); a9 = Fma.MultiplyAdd(a9, x, y);
            a10 = Fma.MultiplyAdd(a10, x, y); a11 = Fma.MultiplyAdd(a11, x, y);
            a12 = Fma.MultiplyAdd(a12, x, y); a13 = Fma.MultiplyAdd(a13, x, y);
            a14 = Fma.MultiplyAdd(a14, x, y); a15 = Fma.MultiplyAdd(a15, x, y);
        }
        var s = (a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7) + (a8 + a9) + (a10 + a11) + (a12 + a13) + (a14 + a15);
        return Vector256.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float LoopScalar(long iterations)
    {
        float a0 = 0.5f, a1 = 0.5f, a2 = 0.5f, a3 = 0.5f, a4 = 0.5f, a5 = 0.5f, a6 = 0.5f, a7 = 0.5f;
        float a8 = 0.5f, a9 = 0.5f, a10 = 0.5f, a11 = 0.5f, a12 = 0.5f, a13 = 0.5f, a14 = 0.5f, a15 = 0.5f;
        const float x = 0.999f, y = 1e-7f;
        for (long i = 0; i < iterations; i++)
        {
            a0 = MathF.FusedMultiplyAdd(a0, x, y); a1 = MathF.FusedMultiplyAdd(a1, x, y);
            a2 = MathF.FusedMultiplyAdd(a2, x, y); a3 = MathF.FusedMultiplyAdd(a3, x, y);
            a4 = MathF.FusedMultiplyAdd(a4, x, y); a5 = MathF.FusedMultiplyAdd(a5, x, y);
            a6 = MathF.FusedMultiplyAdd(a6, x, y); a7 = MathF.FusedMultiplyAdd(a7, x, y);
            a8 = MathF.FusedMultiplyAdd(a8, x, y); a9 = MathF.FusedMultiplyAdd(a9, x, y);
            a10 = MathF.FusedMultiplyAdd(a10, x, y); a11 = MathF.FusedMultiplyAdd(a11, x, y);
            a12 = MathF.FusedMultiplyAdd(a12, x, y); a13 = MathF.FusedMultiplyAdd(a13, x, y);
            a14 = MathF.FusedMultiplyAdd(a14, x, y); a15 = MathF.FusedMultiplyAdd(a15, x, y);
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
    }
}
