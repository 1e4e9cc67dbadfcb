using System.Diagnostics;
using System.Globalization;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Benchmarks;

/// <summary>One benchmarked product: C(M, N) = op(A) · op(B) with shared dimension K.</summary>
/// <param name="Name">Label, e.g. <c>sq256</c> or <c>dW  (2048x256)T@2048x1024</c>.</param>
/// <param name="M">Rows of C.</param>
/// <param name="N">Columns of C.</param>
/// <param name="K">Shared dimension.</param>
/// <param name="TransposeA">A is stored transposed.</param>
/// <param name="TransposeB">B is stored transposed.</param>
public sealed record GemmShape(string Name, int M, int N, int K, bool TransposeA, bool TransposeB);

/// <summary>
/// The SGEMM measurement behind <c>rewardkit bench gemm</c>, timed like ../shared/bench/gemm_bench.py (3 warm-ups,
/// inner loop sized to a minimum time, median and best of the samples).
/// </summary>
public static class GemmBench
{
    /// <summary>
    /// Square 256..2048 and the transformer shapes (M, K, N) forward (Y = X·W), with their backward products
    /// dX = dY·Wᵀ (M, N) x (N, K) and dW = Xᵀ·dY (K, M) x (M, N).
    /// </summary>
    public static IReadOnlyList<GemmShape> Shapes()
    {
        var shapes = new List<GemmShape>();
        foreach (int s in new[] { 256, 512, 1024, 2048 })
            shapes.Add(new GemmShape($"sq{s}", s, s, s, false, false));
        foreach (var (m, k, n) in new[] { (2048, 256, 1024), (2048, 1024, 256), (2048, 256, 768), (2048, 768, 3072), (2048, 3072, 768) })
        {
            shapes.Add(new GemmShape($"fwd {m}x{k}@{k}x{n}", m, n, k, false, false));
            shapes.Add(new GemmShape($"dX  {m}x{n}@({k}x{n})T", m, k, n, false, true));
            shapes.Add(new GemmShape($"dW  ({m}x{k})T@{m}x{n}", k, n, m, true, false));
        }
        return shapes;
    }

    /// <summary>Median and best seconds per product of <paramref name="shape"/>: 3 warm-ups, then <paramref name="repeats"/> samples of an inner loop sized to <paramref name="minTime"/> seconds.</summary>
    public static (double Median, double Best) Time(GemmShape shape, WorkerPool pool, GemmIsa isa, int repeats, double minTime)
    {
        var random = new Random(0);
        var a = new float[shape.M * shape.K];
        var b = new float[shape.K * shape.N];
        var c = new float[shape.M * shape.N];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(random.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(random.NextDouble() * 2 - 1);
        void Once() => Gemm.Multiply(a, b, c, shape.M, shape.N, shape.K, shape.TransposeA, shape.TransposeB, false, 1f, pool, isa);

        for (int i = 0; i < 3; i++) Once();
        var clock = Stopwatch.StartNew();
        Once();
        double one = Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
        int inner = Math.Max(1, (int)(minTime / one));
        var samples = new double[repeats];
        for (int s = 0; s < repeats; s++)
        {
            clock.Restart();
            for (int i = 0; i < inner; i++) Once();
            samples[s] = clock.Elapsed.TotalSeconds / inner;
        }
        Array.Sort(samples);
        return (samples[repeats / 2], samples[0]);
    }

    /// <summary>The clock /proc/cpuinfo reports ("cpu MHz"), in GHz; NaN when unavailable.</summary>
    public static double CpuGhz()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("cpu MHz", StringComparison.Ordinal))
                    return double.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture) / 1000.0;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return double.NaN;
    }
}
