using System.Diagnostics;
using MathNet.Numerics.Statistics;
using Microsoft.ML.OnnxRuntime;
using RewardKit.Export;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Benchmarks;

/// <summary>
/// <c>bench infer-onnx</c>: RewardKit's inference beside ONNX Runtime running the same model exported by
/// <see cref="GptOnnxExporter"/>, in one process: the model and synthetic batches of <c>bench infer</c>
/// (<see cref="RewardModelBench.CreateModel"/>, <see cref="SyntheticTokens"/>), both sides warmed up, then rounds of
/// <c>InferSteps</c> batches, the order rotating from round to round, so a change in machine load hits every side.
/// ONNX Runtime runs with its defaults (all graph optimisations, spinning workers) and as many intra-op threads as
/// RewardKit has workers, and a second time with spinning off (on a busy machine a spinning worker loses its time
/// slice: bench/results/2026-12-07-onnxruntime.md). The ratios are RewardKit's sequences/s
/// over each ONNX Runtime side's (above 1: RewardKit is faster).
/// </summary>
public static class OnnxRuntimeInferBench
{
    /// <summary>One contender: a name for the report and one batch's work (batch index i mod the batch count).</summary>
    sealed record Side(string Key, string Label, Action<int> Batch);

    /// <summary>Runs the three sides on <paramref name="options"/>' model and batches and returns the report.</summary>
    /// <param name="options">bench infer's options (preset, batch, rounds, threads, seed).</param>
    /// <param name="log">Receives one line per round and a summary (null: silent).</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static BenchReport Run(RewardModelBenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.GemmFloor) throw new ArgumentException("--gemm-floor: bench infer-onnx does not time the GEMM floor; use bench infer --gemm-floor.");
        double loadStart = ProcessMemory.LoadAverage1Min();
        using var pool = new WorkerPool(options.Threads);
        var model = RewardModelBench.CreateModel(options);
        var rng = new Rng((ulong)options.Seed + 1);
        var batches = new TokenBatch[2];
        for (int i = 0; i < batches.Length; i++) batches[i] = SyntheticTokens.Batch(rng, options.InferBatch, options.Seq, options.Vocab);

        var path = Path.Combine(Path.GetTempPath(), $"rewardkit-bench-{Guid.NewGuid():N}.onnx");
        try
        {
            var export = Stopwatch.StartNew();
            long bytes = GptOnnxExporter.Export(model, path, new OnnxExportOptions { DynamicBatch = true }, cancellationToken: cancellationToken).Bytes;
            var report = Header(options, model, pool.Threads).Set("onnx_bytes", bytes).Set("export_seconds", export.Elapsed.TotalSeconds);
            using var spinning = new OrtSide(path, options.Threads, spinning: true, batches);
            using var blocking = new OrtSide(path, options.Threads, spinning: false, batches);
            var tape = new Tape(pool) { RecordsGradients = false };
            var rewardKit = new float[]?[batches.Length];
            Side[] sides =
            [
                new("rewardkit", "RewardKit", i => { rewardKit[i % batches.Length] = model.Forward(tape, batches[i % batches.Length]).ToArray(); tape.Reset(); }),
                new("onnxruntime", "ONNX Runtime", spinning.Batch),
                new("onnxruntime_nospin", "ONNX Runtime (no spinning)", blocking.Batch),
            ];
            foreach (var side in sides)
                report.Set($"{side.Key}_warmup_batches_run",
                    JitWarmup.Run(side.Batch, options.InferWarmup, options.JitSettleSeconds, options.MaxWarmupSeconds, cancellationToken));
            report.Set("rss_mb_after_warmup", ProcessMemory.CurrentRssMb());
            var rates = Measure(sides, options, log, cancellationToken);
            report.Set("max_abs_reward_difference", new[] { spinning, blocking }.Max(o => o.MaxDifference(rewardKit)));
            Summarize(report, sides, rates, log);
            return report.Set("peak_rss_mb", ProcessMemory.PeakRssMb()).Set("rss_mb_end", ProcessMemory.CurrentRssMb())
                .Set("loadavg_1min_start", loadStart).Set("loadavg_1min_end", ProcessMemory.LoadAverage1Min());
        }
        finally
        {
            if (File.Exists(path)) File.Delete(path);
        }
    }

    /// <summary>Sequences/s of every side in each of <c>Repeats</c> rounds; the order rotates from round to round.</summary>
    static double[][] Measure(Side[] sides, RewardModelBenchOptions options, Action<string>? log, CancellationToken cancellationToken)
    {
        var rates = sides.Select(_ => new double[options.Repeats]).ToArray();
        for (int r = 0; r < options.Repeats; r++)
        {
            for (int k = 0; k < sides.Length; k++)
            {
                int s = (r + k) % sides.Length;
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < options.InferSteps; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    sides[s].Batch(i);
                }
                rates[s][r] = options.InferSteps * options.InferBatch / Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            log?.Invoke($"  round {r}: " + string.Join(", ", sides.Select((side, s) => $"{side.Label} {rates[s][r]:F2} seq/s")));
        }
        return rates;
    }

    /// <summary>Each side's median and rounds; RewardKit's over each ONNX Runtime side's, as the ratio of medians and per round.</summary>
    static void Summarize(BenchReport report, Side[] sides, double[][] rates, Action<string>? log)
    {
        report.Set("infer_seqs_per_s_median", rates[0].Median()).Set("infer_seqs_per_s_rounds", rates[0]);
        for (int s = 1; s < sides.Length; s++)
        {
            double ratio = rates[0].Median() / rates[s].Median();
            report.Set($"{sides[s].Key}_infer_seqs_per_s_median", rates[s].Median()).Set($"{sides[s].Key}_infer_seqs_per_s_rounds", rates[s])
                .Set($"ratio_rewardkit_over_{sides[s].Key}", ratio)
                .Set($"ratio_rounds_rewardkit_over_{sides[s].Key}", rates[0].Zip(rates[s], (a, b) => a / b).ToArray());
            log?.Invoke($"{sides[s].Label}: median {rates[s].Median():F2} seq/s; RewardKit {rates[0].Median():F2} seq/s, ratio {ratio:F3}");
        }
    }

    static BenchReport Header(RewardModelBenchOptions options, GptRewardModel model, int threads) => new BenchReport()
        .Set("bench", "rewardkit_vs_onnxruntime_infer")
        .Set("preset", options.Preset).Set("layers", options.Layers).Set("d_model", options.DModel).Set("heads", options.Heads)
        .Set("seq", options.Seq).Set("vocab", options.Vocab).Set("infer_batch", options.InferBatch)
        .Set("threads", threads).Set("params", (long)model.ParameterCount)
        .Set("last_block_rows_only", model.ComputeLastBlockOnRewardRowsOnly)
        .Set("cpu_capability", Gemm.BestIsa.ToString().ToLowerInvariant())
        .Set("onnxruntime_version", OrtEnv.Instance().GetVersionString());

    /// <summary>The ONNX Runtime session with its inputs and outputs made once per batch, so a timed run only runs the graph.</summary>
    sealed class OrtSide : IDisposable
    {
        static readonly string[] InputNames = [GptOnnxExporter.InputIds, GptOnnxExporter.AttentionMask];
        static readonly string[] OutputNames = [GptOnnxExporter.Rewards];
        readonly SessionOptions _options;
        readonly InferenceSession _session;
        readonly RunOptions _run = new();
        readonly List<OrtValue[]> _inputs = [];
        readonly List<OrtValue[]> _outputs = [];
        readonly bool[] _ran;

        /// <summary>
        /// A session on <paramref name="path"/> with <paramref name="threads"/> intra-op threads. With
        /// <paramref name="spinning"/> (ONNX Runtime's default) idle workers spin-wait for work; without it they block,
        /// which a busy machine rewards (session.intra_op.allow_spinning = 0).
        /// </summary>
        public OrtSide(string path, int threads, bool spinning, TokenBatch[] batches)
        {
            _options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
            if (!spinning) _options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            _session = new InferenceSession(path, _options);
            Rewards = new float[batches.Length][];
            _ran = new bool[batches.Length];
            for (int i = 0; i < batches.Length; i++)
            {
                var b = batches[i];
                long[] dims = [b.Batch, b.Time];
                var ids = b.Ids.Select(id => (long)id).ToArray();
                var mask = b.AttentionMask().Select(m => (long)m).ToArray();
                _inputs.Add([OrtValue.CreateTensorValueFromMemory(ids, dims), OrtValue.CreateTensorValueFromMemory(mask, dims)]);
                Rewards[i] = new float[b.Batch];
                _outputs.Add([OrtValue.CreateTensorValueFromMemory(Rewards[i], [b.Batch])]);
            }
        }

        /// <summary>The rewards of each batch's last run (the output tensors write into these arrays).</summary>
        public float[][] Rewards { get; }

        /// <summary>
        /// The largest |reward difference| between these rewards and <paramref name="other"/>'s, over the batches both
        /// have run (a short warm-up of a large preset may not reach every batch; null means not run).
        /// </summary>
        public double MaxDifference(float[]?[] other) =>
            Enumerable.Range(0, Rewards.Length).Where(b => _ran[b] && other[b] is not null)
                .Max(b => Rewards[b].Zip(other[b]!).Max(p => (double)Math.Abs(p.First - p.Second)));

        public void Batch(int i)
        {
            _ran[i % _ran.Length] = true;
            _session.Run(_run, InputNames, _inputs[i % _inputs.Count], OutputNames, _outputs[i % _outputs.Count]);
        }

        public void Dispose()
        {
            foreach (var v in _inputs.Concat(_outputs).SelectMany(a => a)) v.Dispose();
            _run.Dispose();
            _session.Dispose();
            _options.Dispose();
        }
    }
}
