using System.Diagnostics;
using MathNet.Numerics.Statistics;
using Microsoft.ML.OnnxRuntime;
using RewardKit.Benchmarks;
using RewardKit.Export;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Cli.Benchmarks;

/// <summary>
/// <c>bench infer-onnx</c>: RewardKit's inference beside ONNX Runtime running the same model exported by
/// <see cref="GptOnnxExporter"/>, in one process: the model and synthetic batches of <c>bench infer</c>
/// (<see cref="RewardModelBench.CreateModel"/>, <see cref="SyntheticTokens"/>), both sides warmed up, then rounds of
/// <c>InferSteps</c> batches alternating which side goes first, so a change in machine load hits both. ONNX Runtime
/// runs with its defaults (all graph optimisations) and as many intra-op threads as RewardKit has workers.
/// The ratio is RewardKit's sequences/s over ONNX Runtime's (above 1: RewardKit is faster).
/// </summary>
internal static class OnnxRuntimeInferBench
{
    public static BenchReport Run(RewardModelBenchOptions options, Action<string>? log, CancellationToken cancellationToken)
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
            double exportSeconds = export.Elapsed.TotalSeconds;
            using var sessionOptions = new SessionOptions { IntraOpNumThreads = options.Threads, InterOpNumThreads = 1 };
            using var ort = new OrtSide(new InferenceSession(path, sessionOptions), batches);
            var tape = new Tape(pool) { RecordsGradients = false };
            var rewardKit = new float[batches.Length][];
            void RewardKitBatch(int i)
            {
                var batch = batches[i % batches.Length];
                rewardKit[i % batches.Length] = model.Forward(tape, batch).ToArray();
                tape.Reset();
            }

            int rkWarm = JitWarmup.Run(RewardKitBatch, options.InferWarmup, options.JitSettleSeconds, options.MaxWarmupSeconds, cancellationToken);
            int ortWarm = JitWarmup.Run(ort.Batch, options.InferWarmup, options.JitSettleSeconds, options.MaxWarmupSeconds, cancellationToken);
            double rssAfterWarmup = ProcessMemory.CurrentRssMb();
            double maxDiff = Enumerable.Range(0, batches.Length).Max(b => rewardKit[b].Zip(ort.Rewards[b]).Max(p => Math.Abs(p.First - p.Second)));

            var rk = new double[options.Repeats];
            var onnx = new double[options.Repeats];
            for (int r = 0; r < options.Repeats; r++)
            {
                double Round(Action<int> once)
                {
                    long start = Stopwatch.GetTimestamp();
                    for (int i = 0; i < options.InferSteps; i++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        once(i);
                    }
                    return options.InferSteps * options.InferBatch / Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
                if (r % 2 == 0) { rk[r] = Round(RewardKitBatch); onnx[r] = Round(ort.Batch); }
                else { onnx[r] = Round(ort.Batch); rk[r] = Round(RewardKitBatch); }
                log?.Invoke($"  round {r}: RewardKit {rk[r]:F2} seq/s, ONNX Runtime {onnx[r]:F2} seq/s, ratio {rk[r] / onnx[r]:F3}");
            }
            double rkMedian = rk.Median(), ortMedian = onnx.Median();
            log?.Invoke($"inference: RewardKit median {rkMedian:F2} seq/s, ONNX Runtime median {ortMedian:F2} seq/s, ratio {rkMedian / ortMedian:F3}; max |reward difference| {maxDiff:G3}");
            return new BenchReport()
                .Set("bench", "rewardkit_vs_onnxruntime_infer")
                .Set("preset", options.Preset).Set("layers", options.Layers).Set("d_model", options.DModel).Set("heads", options.Heads)
                .Set("seq", options.Seq).Set("vocab", options.Vocab).Set("infer_batch", options.InferBatch)
                .Set("threads", pool.Threads).Set("params", (long)model.ParameterCount)
                .Set("cpu_capability", Gemm.BestIsa.ToString().ToLowerInvariant())
                .Set("onnxruntime_version", OrtEnv.Instance().GetVersionString())
                .Set("onnx_bytes", bytes).Set("export_seconds", exportSeconds)
                .Set("warmup_batches_run", rkWarm).Set("onnxruntime_warmup_batches_run", ortWarm)
                .Set("infer_seqs_per_s_median", rkMedian).Set("infer_seqs_per_s_rounds", rk)
                .Set("onnxruntime_infer_seqs_per_s_median", ortMedian).Set("onnxruntime_infer_seqs_per_s_rounds", onnx)
                .Set("ratio_rewardkit_over_onnxruntime", rkMedian / ortMedian)
                .Set("ratio_rounds", rk.Zip(onnx, (a, b) => a / b).ToArray())
                .Set("max_abs_reward_difference", maxDiff)
                .Set("last_block_rows_only", model.ComputeLastBlockOnRewardRowsOnly)
                .Set("peak_rss_mb", ProcessMemory.PeakRssMb())
                .Set("rss_mb_after_warmup", rssAfterWarmup).Set("rss_mb_end", ProcessMemory.CurrentRssMb())
                .Set("loadavg_1min_start", loadStart).Set("loadavg_1min_end", ProcessMemory.LoadAverage1Min());
        }
        finally
        {
            if (File.Exists(path)) File.Delete(path);
        }
    }

    /// <summary>The ONNX Runtime session with its inputs and outputs made once per batch, so a timed run only runs the graph.</summary>
    sealed class OrtSide : IDisposable
    {
        static readonly string[] InputNames = [GptOnnxExporter.InputIds, GptOnnxExporter.AttentionMask];
        static readonly string[] OutputNames = [GptOnnxExporter.Rewards];
        readonly InferenceSession _session;
        readonly RunOptions _run = new();
        readonly List<OrtValue[]> _inputs = [];
        readonly List<OrtValue[]> _outputs = [];

        public OrtSide(InferenceSession session, TokenBatch[] batches)
        {
            _session = session;
            Rewards = new float[batches.Length][];
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

        public void Batch(int i) => _session.Run(_run, InputNames, _inputs[i % _inputs.Count], OutputNames, _outputs[i % _outputs.Count]);

        public void Dispose()
        {
            foreach (var v in _inputs.Concat(_outputs).SelectMany(a => a)) v.Dispose();
            _run.Dispose();
            _session.Dispose();
        }
    }
}
