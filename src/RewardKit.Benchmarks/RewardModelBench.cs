using System.Diagnostics;
using RewardKit.Diagnostics;
using RewardKit.Distributed;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors.Optim;
using RewardKit.Tensors;
using RewardKit.Training.Losses;
using RewardKit.Training;

namespace RewardKit.Benchmarks;

/// <summary>
/// The reward-model benchmark of <c>../shared/bench/torch_rm_bench.py</c>, doing the same work on RewardKit's engine:
/// a GPT-2 reward model (pre-LN, causal attention, gelu_new, reward at the last real token, no dropout) initialised from
/// the seed; synthetic right-padded batches (<see cref="SyntheticTokens"/>), pre-generated and cycled so data generation
/// is never timed.
/// <list type="bullet">
/// <item><see cref="Train(RewardModelBenchOptions, Action{string}?, CancellationToken)"/>: Bradley-Terry loss −log σ(r_chosen − r_rejected) averaged over P pairs (rows [0, P) chosen,
/// [P, 2P) rejected), backward, global-norm clipping at 1.0, AdamW(lr 1e-4, wd 0.01); pairs/s per round.</item>
/// <item><see cref="Infer"/>: inference mode (nothing recorded), batches of 32; sequences/s per round.</item>
/// </list>
/// Both return a <see cref="BenchReport"/> with the reference's field names, plus RewardKit's own diagnostics
/// (per-phase milliseconds, bytes allocated per step, arena size, resident memory after warm-up and at the end).
/// Differences from the reference that do not change the work: the head is GPT-2's bias-free <c>score</c> (one
/// parameter fewer), and biases and LayerNorm weights take no weight decay (the Hugging Face default).
/// </summary>
public static class RewardModelBench
{
    /// <summary>The model the options describe, initialised from <see cref="RewardModelBenchOptions.Seed"/>.</summary>
    public static GptRewardModel CreateModel(RewardModelBenchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new GptConfig
        {
            Layers = options.Layers,
            EmbeddingSize = options.DModel,
            Heads = options.Heads,
            Positions = options.Seq,
            VocabSize = options.Vocab,
            EosTokenId = options.Vocab - 1,
        }.WithoutDropout();
        var model = GptRewardModel.Create(config, (ulong)options.Seed);
        model.ComputeLastBlockOnRewardRowsOnly = !options.FullLastBlock;
        return model;
    }

    /// <summary>Runs the training benchmark (warm-up, then <c>Repeats</c> rounds of <c>Steps</c> steps).</summary>
    /// <param name="options">What to run.</param>
    /// <param name="log">Receives one human-readable line per round (null: silent).</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public static BenchReport Train(RewardModelBenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default) =>
        Train(options, SingleProcessCommunicator.Instance, log, cancellationToken);

    /// <summary>
    /// Runs the training benchmark data-parallel over <paramref name="communicator"/>'s ranks: every rank draws the same
    /// global batches of P pairs and trains on its contiguous share of them (loss scaled by its share, one gradient
    /// Allreduce per step, <see cref="AllreduceGradients"/>), so pairs/s count the global batch and compare directly with
    /// one process. Adds <c>world_size</c>, <c>allreduce_ms_median</c> and <c>allreduce_fraction_of_step</c> to the report.
    /// </summary>
    /// <param name="options">What to run (<c>PairsPerBatch</c> is the global batch).</param>
    /// <param name="communicator">The job's ranks; each runs this with the same options.</param>
    /// <param name="log">Receives one human-readable line per round (null: silent).</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public static BenchReport Train(RewardModelBenchOptions options, ICommunicator communicator, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(communicator);
        options.Validate();
        if (options.PairsPerBatch < communicator.Size)
            throw new ArgumentException($"--pairs-per-batch {options.PairsPerBatch} leaves some of the {communicator.Size} ranks without a pair; use at least {communicator.Size}.");
        double loadStart = ProcessMemory.LoadAverage1Min();
        using var pool = new WorkerPool(options.Threads);
        var model = CreateModel(options);
        var report = Header("train", options, model, pool).Set("recompute_attention", options.RecomputeAttention).Set("world_size", communicator.Size);
        int P = options.PairsPerBatch;
        var (first, p) = communicator.Shard(P).GetOffsetAndLength(P);   // this rank's pairs [first, first + p) of every batch
        float share = (float)p / P;
        var rng = new Rng((ulong)options.Seed + 1);
        var batches = new TokenBatch[4];
        for (int i = 0; i < batches.Length; i++) batches[i] = PairRows(SyntheticTokens.Batch(rng, 2 * P, options.Seq, options.Vocab), P, first, p);

        var tape = new Tape(pool) { GarbageBudgetBytes = Tape.TrainingGarbageBudgetBytes, RecomputesAttention = options.RecomputeAttention };
        var (trained, forward) = Trainable(options, model, report);
        var optimizer = new AdamW(trained, RewardModelBenchOptions.LearningRate, weightDecay: RewardModelBenchOptions.WeightDecay, pool: pool);
        int capacity = options.Warmup + options.Repeats * options.Steps;
        var losses = new List<double>(capacity);
        var phase = new StepPhases(capacity);

        var reducer = new ComputeCpuClock(new AllreduceGradients(communicator));
        var step = new TrainingStep(trained, optimizer, tape, LearningRateSchedule.Constant(RewardModelBenchOptions.LearningRate),
            RewardModelBenchOptions.MaxGradNorm, pool) { GradientReducer = reducer };
        var batch = batches[0];
        MicroBatchLossBuilder bradleyTerry = (tape, _) =>
        {
            var rewards = forward(tape, batch);                                                          // (2p)
            var loss = BradleyTerry.Loss(tape, rewards.Slice(0, p), rewards.Slice(p, p));                // ()
            return new MicroBatchLoss(share == 1f ? loss : tape.Scale(loss, share), 0);
        };

        var computeCpuMs = new List<double>(capacity);
        float Step(int i)
        {
            batch = batches[i % batches.Length];
            reducer.StepStarted();
            var result = step.Run(i, microBatches: 1, bradleyTerry);
            phase.Add(result.Times);
            computeCpuMs.Add(reducer.ComputeCpu.TotalMilliseconds);
            return (float)result.Loss;
        }

        Func<bool, bool>? everyRank = communicator.Size == 1 ? null : done =>
        {
            Span<double> notDone = [done ? 0 : 1];
            communicator.AllreduceSum(notDone);
            return notDone[0] == 0;
        };
        int warmupSteps = JitWarmup.Run(i => losses.Add(Step(i)), options.Warmup, options.JitSettleSeconds, options.MaxWarmupSeconds, cancellationToken, everyRank);
        phase.Clear();
        computeCpuMs.Clear();
        long jitMethodsBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        double rssAfterWarmup = ProcessMemory.CurrentRssMb();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        int gen0Before = GC.CollectionCount(0), gen2Before = GC.CollectionCount(2);

        var rates = new double[options.Repeats];
        var stepMs = new List<double>(options.Repeats * options.Steps);
        var rssSteps = new List<double>();
        var rssSamples = new List<double>();   // resident MB after timed steps 1, 10, 100, ...
        int timed = 0;
        long nextSample = 1;
        long flopsBefore = pool.GemmFlops;
        for (int r = 0; r < options.Repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < options.Steps; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long s = Stopwatch.GetTimestamp();
                losses.Add(Step(i));
                stepMs.Add(Stopwatch.GetElapsedTime(s).TotalMilliseconds);
                if (++timed == nextSample)
                {
                    rssSteps.Add(timed);
                    rssSamples.Add(ProcessMemory.CurrentRssMb());
                    nextSample *= 10;
                }
            }
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            rates[r] = options.Steps * P / seconds;
            log?.Invoke($"  train round {r}: {rates[r]:F3} pairs/s  ({seconds / options.Steps * 1e3:F1} ms/step)");
        }
        int timedSteps = options.Repeats * options.Steps;
        double executedPerPair = (double)(pool.GemmFlops - flopsBefore) / ((long)timedSteps * p);   // this rank's share, per pair
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        report.Set("warmup_steps_run", warmupSteps)
            .Set("jit_methods_compiled_while_timed", System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethodsBefore);

        var (best, median) = Summarize(rates);
        report.Set("train_pairs_per_s_best", best)
            .Set("train_pairs_per_s_median", median)
            .Set("train_pairs_per_s_rounds", rates)
            .Set("train_step_ms_min", stepMs.Min())
            .Set("train_step_ms_median", Median(stepMs))
            .Set("train_gflops_median", median * options.TrainFlopPerPair / 1e9)
            .Set("train_gflops_best", best * options.TrainFlopPerPair / 1e9)
            .Set("loss_first", losses[0])
            .Set("loss_last", losses[^1])
            .Set("train_forward_ms_median", phase.Median(0))
            .Set("train_backward_ms_median", phase.Median(1))
            .Set("train_clip_ms_median", phase.Median(2))
            .Set("train_optimizer_ms_median", phase.Median(3))
            .Set("train_allocated_kb_per_step", allocated / 1024.0 / timedSteps)
            .Set("gc_gen0_collections", GC.CollectionCount(0) - gen0Before)
            .Set("gc_gen2_collections", GC.CollectionCount(2) - gen2Before)
            .Set("arena_high_water_mb", tape.Arena.HighWater * 4.0 / (1 << 20))
            .Set("rss_mb_after_warmup", rssAfterWarmup)
            .Set("rss_mb_end", ProcessMemory.CurrentRssMb())
            .Set("rss_sample_steps", rssSteps.ToArray())
            .Set("rss_mb_samples", rssSamples.ToArray())
            .Set("gc_heap_mb_end", GC.GetGCMemoryInfo().HeapSizeBytes / (double)(1 << 20));
        report.Set("peak_rss_mb", ProcessMemory.PeakRssMb());   // before the GEMM floor's own buffers
        SetExecutedFlops(report, "train_real_gflop_per_pair", executedPerPair, options.TrainFlopPerPair, median, pool, communicator.Size, log);
        if (options.GemmFloor)
        {
            double floorMs = GemmFloor.TimeMs(GemmFloor.Products(options, 2 * P, backward: true), pool);
            report.Set("gemm_floor_step_ms", floorMs).Set("gemm_floor_pairs_per_s", P * 1000.0 / floorMs)
                .Set("gemm_fraction_of_step", floorMs / Median(stepMs));
            log?.Invoke($"GEMM floor: the step's matrix products alone take {floorMs:F1} ms ({P * 1000.0 / floorMs:F1} pairs/s at most)");
        }
        if (ThreadCpuTime.IsSupported && options.Threads == 1) report.Set("train_compute_cpu_ms_median", Median(computeCpuMs));
        if (communicator.Size > 1)
        {
            double reduceMs = phase.Median(4);
            report.Set("allreduce_ms_median", reduceMs).Set("allreduce_fraction_of_step", reduceMs / Median(stepMs))
                .Set("allreduce_bytes_per_step", 2.0 * (communicator.Size - 1) / communicator.Size * model.ParameterCount * sizeof(float));
            log?.Invoke($"data-parallel over {communicator.Size} ranks, {p} of {P} pairs each here: Allreduce median {reduceMs:F1} ms ({reduceMs / Median(stepMs):P1} of the step)");
        }
        log?.Invoke($"training: best {best:F3}  median {median:F3} pairs/s  (step median {Median(stepMs):F1} ms: forward {phase.Median(0):F1}, " +
            $"backward {phase.Median(1):F1}, clip {phase.Median(2):F1}, AdamW {phase.Median(3):F1}); loss {losses[0]:F4} -> {losses[^1]:F4}");
        return Footer(report, loadStart);
    }

    /// <summary>
    /// What the training benchmark trains: every parameter, or (with <see cref="RewardModelBenchOptions.LoraR"/>) LoRA adapters
    /// over the frozen model, whose sizes go into the report (trainable share of the backbone, i.e. without the head).
    /// </summary>
    static (ParameterSet Trained, Func<Tape, TokenBatch, Tensor> Forward) Trainable(RewardModelBenchOptions options, GptRewardModel model, BenchReport report)
    {
        long backbone = model.ParameterCount - model.ScoreWeight.Length;
        report.Set("lora_r", options.LoraR);
        if (options.LoraR == 0)
        {
            report.Set("trainable_params", (long)model.ParameterCount).Set("trainable_share_of_backbone", (double)model.ParameterCount / backbone);
            return (model.Parameters, (tape, batch) => model.Forward(tape, batch, training: true));
        }
        var lora = new Models.Lora.LoraRewardModel(model, new Models.Lora.LoraSettings { Rank = options.LoraR });
        lora.Initialize(new Rng((ulong)options.Seed + 2));
        report.Set("trainable_params", (long)lora.TrainableParameterCount)
            .Set("trainable_share_of_backbone", (double)lora.TrainableParameterCount / backbone)
            .Set("lora_targets", string.Join(",", lora.Settings.Targets));
        return (lora.Parameters, (tape, batch) => lora.Forward(tape, batch, training: true));
    }

    /// <summary>Runs the inference benchmark (warm-up, then <c>Repeats</c> rounds of <c>InferSteps</c> batches).</summary>
    /// <param name="options">What to run.</param>
    /// <param name="log">Receives one human-readable line per round (null: silent).</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static BenchReport Infer(RewardModelBenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        double loadStart = ProcessMemory.LoadAverage1Min();
        using var pool = new WorkerPool(options.Threads);
        var model = CreateModel(options);
        var report = Header("infer", options, model, pool);
        var rng = new Rng((ulong)options.Seed + 1);
        var batches = new TokenBatch[2];
        for (int i = 0; i < batches.Length; i++) batches[i] = SyntheticTokens.Batch(rng, options.InferBatch, options.Seq, options.Vocab);

        var tape = new Tape(pool) { RecordsGradients = false };
        double checksum = 0;
        var batchMs = new List<double>(options.InferWarmup + options.Repeats * options.InferSteps);
        void Once(int i)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long s = Stopwatch.GetTimestamp();
            var rewards = model.Forward(tape, batches[i % batches.Length]);   // (B)
            checksum += rewards.Data[0];
            tape.Reset();
            batchMs.Add(Stopwatch.GetElapsedTime(s).TotalMilliseconds);
        }

        int warmupBatches = JitWarmup.Run(Once, options.InferWarmup, options.JitSettleSeconds, options.MaxWarmupSeconds, cancellationToken);
        batchMs.Clear();
        long jitMethodsBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        double rssAfterWarmup = ProcessMemory.CurrentRssMb();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long flopsBefore = pool.GemmFlops;
        var rates = new double[options.Repeats];
        for (int r = 0; r < options.Repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < options.InferSteps; i++) Once(i);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            rates[r] = options.InferSteps * options.InferBatch / seconds;
            log?.Invoke($"  infer round {r}: {rates[r]:F2} seq/s  ({seconds / options.InferSteps * 1e3:F1} ms/batch)");
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        double executedPerSequence = (double)(pool.GemmFlops - flopsBefore) / ((long)options.Repeats * options.InferSteps * options.InferBatch);
        var (best, median) = Summarize(rates);
        double peak = ProcessMemory.PeakRssMb();
        report.Set("warmup_batches_run", warmupBatches)
            .Set("jit_methods_compiled_while_timed", System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethodsBefore);
        report.Set("infer_seqs_per_s_best", best)
            .Set("infer_seqs_per_s_median", median)
            .Set("infer_seqs_per_s_rounds", rates)
            .Set("infer_gflops_median", median * options.InferFlopPerSequence / 1e9)
            .Set("peak_rss_mb_after_infer", peak)
            .Set("infer_batch_ms_median", Median(batchMs))
            .Set("infer_allocated_kb_per_batch", allocated / 1024.0 / (options.Repeats * options.InferSteps))
            .Set("arena_high_water_mb", tape.Arena.HighWater * 4.0 / (1 << 20))
            .Set("rss_mb_after_warmup", rssAfterWarmup)
            .Set("rss_mb_end", ProcessMemory.CurrentRssMb())
            .Set("reward_checksum", checksum);
        report.Set("peak_rss_mb", peak);   // before the GEMM floor's own buffers
        SetExecutedFlops(report, "infer_real_gflop_per_seq", executedPerSequence, options.InferFlopPerSequence, median, pool, 1, log);
        if (options.GemmFloor)
        {
            double floorMs = GemmFloor.TimeMs(GemmFloor.Products(options, options.InferBatch, backward: false), pool);
            report.Set("gemm_floor_batch_ms", floorMs).Set("gemm_floor_seqs_per_s", options.InferBatch * 1000.0 / floorMs)
                .Set("gemm_fraction_of_batch", floorMs / Median(batchMs));
            log?.Invoke($"GEMM floor: the batch's matrix products alone take {floorMs:F1} ms ({options.InferBatch * 1000.0 / floorMs:F1} seq/s at most)");
        }
        log?.Invoke($"inference: best {best:F2}  median {median:F2} seq/s  ({median * options.InferFlopPerSequence / 1e9:F1} GFLOP/s); peak RSS {peak:F0} MB");
        return Footer(report, loadStart);
    }

    /// <summary>
    /// Wraps the step's gradient reducer to read this thread's CPU time when the reduction starts: from the step's start to
    /// there is the forward and backward work, which with one thread all runs on this thread, so it is measured without the
    /// time the machine's other load takes (<c>train_compute_cpu_ms_median</c>; a rank of a data-parallel run does its
    /// share of the batch, whatever the machine's load).
    /// </summary>
    sealed class ComputeCpuClock(IGradientReducer inner) : IGradientReducer
    {
        TimeSpan _start;

        public TimeSpan ComputeCpu { get; private set; }

        public void StepStarted() => _start = ThreadCpuTime.Now();

        public void ReduceGradients(Tensors.ParameterSet parameters)
        {
            ComputeCpu = ThreadCpuTime.Now() - _start;
            inner.ReduceGradients(parameters);
        }

        public double ReduceLoss(double loss) => inner.ReduceLoss(loss);
    }

    /// <summary>
    /// Rows [first, first + p) (chosen) and [P + first, P + first + p) (rejected) of a (2P, T) pair batch, as a (2p, T)
    /// batch with the same padding: one rank's share of the global batch.
    /// </summary>
    static TokenBatch PairRows(TokenBatch batch, int P, int first, int p)
    {
        if (p == P) return batch;
        int T = batch.Time;
        var rows = Enumerable.Range(first, p).Concat(Enumerable.Range(P + first, p)).ToArray();
        var ids = new int[rows.Length * T];
        for (int k = 0; k < rows.Length; k++) batch.Ids.AsSpan(rows[k] * T, T).CopyTo(ids.AsSpan(k * T, T));
        return new TokenBatch(ids, rows.Length, T, [.. rows.Select(r => batch.Lengths[r])]).Validate();
    }

    static BenchReport Header(string mode, RewardModelBenchOptions o, GptRewardModel model, WorkerPool pool)
    {
        long embedding = model.TokenEmbedding.Length + model.PositionEmbedding.Length;
        return new BenchReport()
            .Set("bench", "rewardkit_rm_bench")
            .Set("mode", mode)
            .Set("preset", o.Preset)
            .Set("layers", o.Layers)
            .Set("d_model", o.DModel)
            .Set("heads", o.Heads)
            .Set("seq", o.Seq)
            .Set("vocab", o.Vocab)
            .Set("pairs_per_batch", o.PairsPerBatch)
            .Set("infer_batch", o.InferBatch)
            .Set("threads", pool.Threads)
            .Set("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription)
            .Set("cpu_capability", Gemm.BestIsa.ToString().ToLowerInvariant())
            .Set("blas", "rewardkit-gemm")
            .Set("params", (long)model.ParameterCount)
            .Set("last_block_rows_only", model.ComputeLastBlockOnRewardRowsOnly)
            .Set("params_non_embedding", model.ParameterCount - embedding)
            .Set("fwd_gflop_per_token", o.ForwardFlopPerToken / 1e9)
            .Set("train_gflop_per_pair", o.TrainFlopPerPair / 1e9)
            .Set("infer_gflop_per_seq", o.InferFlopPerSequence / 1e9);
    }

    /// <summary>
    /// The honest rate beside the reference's dense one: <c>real_gflops_median</c> is the median rate times the matrix-product
    /// FLOPs the kernels really executed per item (<see cref="WorkerPool.GemmFlops"/> over the timed work: padded keys, fully
    /// masked causal blocks and the last block's unread rows are not run, so not counted), <c>peak_gflops</c> the FMA peak
    /// measured now in this process on the same threads (<see cref="FmaPeak"/>; times the ranks of a data-parallel run, which
    /// measure at the same point), and <c>peak_fraction</c> their ratio.
    /// </summary>
    static void SetExecutedFlops(BenchReport report, string perItemField, double executedPerItem, double densePerItem, double itemsPerSecond,
        WorkerPool pool, int ranks, Action<string>? log)
    {
        double real = itemsPerSecond * executedPerItem / 1e9;
        double peak = FmaPeak.MeasureGflops(pool) * ranks;
        report.Set(perItemField, executedPerItem / 1e9)
            .Set("real_fraction_of_dense", executedPerItem / densePerItem)
            .Set("real_gflops_median", real)
            .Set("peak_gflops", peak)
            .Set("peak_fraction", real / peak);
        log?.Invoke($"executed matrix products: {executedPerItem / 1e9:F4} GFLOP per item ({executedPerItem / densePerItem:P1} of the dense model's), " +
            $"{real:F1} GFLOP/s = {real / peak:P1} of the {peak:F1} GFLOP/s FMA peak measured now");
    }

    static BenchReport Footer(BenchReport report, double loadStart) => report
        .Set("loadavg_1min_start", loadStart)
        .Set("loadavg_1min_end", ProcessMemory.LoadAverage1Min());

    /// <summary>(max, median) of per-round rates, as the reference's summarize.</summary>
    static (double Best, double Median) Summarize(double[] rates) => (rates.Max(), Median(rates));

    /// <summary>The median (the mean of the middle two for an even count), as Python's statistics.median.</summary>
    internal static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>
    /// Per-step milliseconds of <see cref="TrainingStep"/>'s phases: forward (incl. zeroing the gradients and the loss),
    /// backward (incl. the tape reset and the gradient reduction, a no-op here), clipping, optimiser.
    /// </summary>
    sealed class StepPhases(int capacity)
    {
        readonly List<double>[] _ms = [new(capacity), new(capacity), new(capacity), new(capacity), new(capacity)];

        /// <summary>Phases 0 forward, 1 backward + reduction, 2 clipping, 3 optimiser, 4 the reduction alone.</summary>
        public void Add(StepTimes t)
        {
            _ms[0].Add(t.Forward.TotalMilliseconds); _ms[1].Add((t.Backward + t.Reduce).TotalMilliseconds);
            _ms[2].Add(t.Clip.TotalMilliseconds); _ms[3].Add(t.Optimizer.TotalMilliseconds); _ms[4].Add(t.Reduce.TotalMilliseconds);
        }

        public void Clear() { foreach (var l in _ms) l.Clear(); }

        public double Median(int phase) => RewardModelBench.Median(_ms[phase]);
    }
}
