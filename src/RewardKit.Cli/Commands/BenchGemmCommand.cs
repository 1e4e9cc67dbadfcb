using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RewardKit.Benchmarks;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit bench gemm --threads N --json [--isa auto|avx512|avx2|scalar] [--repeats R]</c>: SGEMM GFLOP/s per
/// shape, timed like ../shared/bench/gemm_bench.py (3 warm-ups, inner loop sized to --min-time, median and best of
/// --repeats samples) so the two outputs join on (m, n, k, transpose_a, transpose_b, threads).
/// </summary>
public static class BenchGemmCommand
{
    /// <summary>Builds the <c>bench gemm</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var threads = new Option<int>("--threads") { Description = "Threads, the caller included (0: all cores).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "One JSON object per line per shape (otherwise a table)." };
        var isa = new Option<string>("--isa") { Description = "Micro-kernel family: auto, avx512, avx2 or scalar.", DefaultValueFactory = _ => "auto" };
        var repeats = new Option<int>("--repeats") { Description = "Timed samples per shape (median and best reported).", DefaultValueFactory = _ => 7 };
        var minTime = new Option<double>("--min-time") { Description = "Seconds per sample; the inner loop is sized to reach it.", DefaultValueFactory = _ => 0.25 };
        var filter = new Option<string?>("--shape") { Description = "Only shapes whose name contains this text (e.g. sq, dW)." };
        var peakOption = new Option<double>("--peak-gflops") { Description = "Use this FMA peak (GFLOP/s) instead of measuring it (0: measure)." };
        var command = new Command("gemm", "SGEMM GFLOP/s per shape, beside ../shared/bench/gemm_bench.py.") { threads, json, isa, repeats, minTime, filter, peakOption };
        command.SetAction(parse => Run(parse.GetValue(threads), parse.GetValue(json), ParseIsa(parse.GetValue(isa)!),
            parse.GetValue(repeats), parse.GetValue(minTime), parse.GetValue(filter), parse.GetValue(peakOption)));
        return command;
    }

    static GemmIsa ParseIsa(string text) => text.ToLowerInvariant() switch
    {
        "auto" => GemmIsa.Auto,
        "avx512" => GemmIsa.Avx512,
        "avx2" => GemmIsa.Avx2,
        "scalar" => GemmIsa.Scalar,
        _ => throw new UserErrorException($"--isa '{text}' is not one of auto, avx512, avx2, scalar."),
    };

    static int Run(int threads, bool json, GemmIsa isa, int repeats, double minTime, string? filter, double knownPeak)
    {
        if (threads < 0) throw new UserErrorException($"--threads {threads}: use 0 (all cores) or a positive count.");
        if (repeats < 1) throw new UserErrorException($"--repeats {repeats}: use at least 1.");
        if (minTime <= 0) throw new UserErrorException($"--min-time {minTime}: use a positive number of seconds.");
        if (!Gemm.IsSupported(isa)) throw new UserErrorException($"--isa {isa}: this CPU cannot run it; try auto.");
        var resolved = isa == GemmIsa.Auto ? Gemm.BestIsa : isa;

        using var pool = new WorkerPool(threads);
        if (knownPeak < 0) throw new UserErrorException($"--peak-gflops {knownPeak}: use a positive number, or 0 to measure.");
        double peak = knownPeak > 0 ? knownPeak : FmaPeak.MeasureGflops(pool, resolved);
        double ghz = GemmBench.CpuGhz();
        double nominalPeak = pool.Threads * 2 * 16 * 2 * ghz;
        if (!json)
            Console.WriteLine($"threads={pool.Threads} isa={resolved}  measured FMA peak {peak:F1} GFLOP/s  " +
                $"nominal {pool.Threads} x 2 FMA x 16 lanes x 2 x {ghz:F3} GHz = {nominalPeak:F1} GFLOP/s");

        foreach (var shape in GemmBench.Shapes())
        {
            if (filter is not null && !shape.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
            var (median, best) = GemmBench.Time(shape, pool, resolved, repeats, minTime);
            double flop = 2.0 * shape.M * shape.N * shape.K;
            double gflops = flop / median / 1e9, bestGflops = flop / best / 1e9;
            if (json) WriteJson(shape, pool.Threads, resolved, gflops, bestGflops, median, peak, nominalPeak);
            else Console.WriteLine($"{shape.Name,-28} {gflops,8:F1} GFLOP/s (best {bestGflops,6:F1})  {100 * gflops / peak,5:F1}% of measured peak");
        }
        return CliApp.Success;
    }

    static void WriteJson(GemmShape shape, int threads, GemmIsa isa, double gflops, double best, double seconds, double peak, double nominalPeak)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("lib", "rewardkit");
            w.WriteString("shape", shape.Name);
            w.WriteNumber("m", shape.M);
            w.WriteNumber("n", shape.N);
            w.WriteNumber("k", shape.K);
            w.WriteBoolean("transpose_a", shape.TransposeA);
            w.WriteBoolean("transpose_b", shape.TransposeB);
            w.WriteNumber("threads", threads);
            w.WriteString("isa", isa.ToString().ToLowerInvariant());
            w.WriteNumber("gflops", Math.Round(gflops, 2));
            w.WriteNumber("gflops_best", Math.Round(best, 2));
            w.WriteNumber("seconds", seconds);
            w.WriteNumber("peak_gflops", Math.Round(peak, 1));
            w.WriteNumber("peak_fraction", Math.Round(gflops / peak, 4));
            if (double.IsFinite(nominalPeak))
            {
                w.WriteNumber("nominal_peak_gflops", Math.Round(nominalPeak, 1));
                w.WriteNumber("nominal_peak_fraction", Math.Round(gflops / nominalPeak, 4));
            }
            w.WriteEndObject();
        }
        Console.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
