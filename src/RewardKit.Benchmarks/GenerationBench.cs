using System.Diagnostics;
using System.Globalization;
using RewardKit.Generation;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Benchmarks;

/// <summary>
/// The work of one generation benchmark run, with the model shapes of <c>../shared/bench/torch_rm_bench.py</c>'s presets
/// and the prompt length half its sequence length, as <c>bench/torch_generate_bench.py</c> uses them:
/// <code>
/// preset  layers d_model heads vocab  prompt_tokens
/// tiny    2      128     4     8192   32
/// small   4      256     4     16384  64
/// gpt2    12     768     12    50257  128
/// </code>
/// n_positions = prompt_tokens + new_tokens. Call <see cref="Validate"/> before use.
/// </summary>
public sealed record GenerationBenchOptions
{
    /// <summary>The preset these values came from, or null for a custom shape.</summary>
    public string? Preset { get; init; }

    /// <summary>Transformer blocks. Default 4 (small).</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Embedding width C. Default 256.</summary>
    public int DModel { get; init; } = 256;

    /// <summary>Attention heads; must divide <see cref="DModel"/>. Default 4.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Vocabulary size V. Default 16384.</summary>
    public int Vocab { get; init; } = 16384;

    /// <summary>Tokens of every prompt. Default 64.</summary>
    public int PromptTokens { get; init; } = 64;

    /// <summary>Sequences generated together. Default 32.</summary>
    public int Batch { get; init; } = 32;

    /// <summary>Tokens generated per sequence (greedy, no EOS stop, so every round does the same work). Default 64.</summary>
    public int NewTokens { get; init; } = 64;

    /// <summary>Untimed rounds before timing (then on until the JIT settles). Default 1.</summary>
    public int Warmup { get; init; } = 1;

    /// <summary>Timed rounds; the best and median are reported. Default 5.</summary>
    public int Repeats { get; init; } = 5;

    /// <summary>Threads, the caller included. Default 2.</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Seed of the model; the prompts use Seed + 1. Default 1234.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>After the fixed warm-up, keep warming up until no method was JIT-compiled for this many seconds (0 = off). Default 1.</summary>
    public double JitSettleSeconds { get; init; } = 1.0;

    /// <summary>The longest the JIT warm-up may take, in seconds. Default 30.</summary>
    public double MaxWarmupSeconds { get; init; } = 30;

    /// <summary>The preset names.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["tiny", "small", "gpt2"];

    /// <summary>The named preset; explicit settings override it with <c>with { ... }</c>.</summary>
    public static GenerationBenchOptions FromPreset(string name) => name.ToLowerInvariant() switch
    {
        "tiny" => new() { Preset = "tiny", Layers = 2, DModel = 128, Heads = 4, Vocab = 8192, PromptTokens = 32 },
        "small" => new() { Preset = "small", Layers = 4, DModel = 256, Heads = 4, Vocab = 16384, PromptTokens = 64 },
        "gpt2" => new() { Preset = "gpt2", Layers = 12, DModel = 768, Heads = 12, Vocab = 50257, PromptTokens = 128, Repeats = 3 },
        _ => throw new ArgumentException($"--preset '{name}' is unknown; use one of {string.Join(", ", PresetNames)}.", nameof(name)),
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting (as its CLI flag) and the fix.</summary>
    public GenerationBenchOptions Validate()
    {
        static void Positive(int value, string flag)
        {
            if (value < 1) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{flag} {value}: use a positive number."), flag);
        }
        Positive(Layers, "--layers");
        Positive(DModel, "--d-model");
        Positive(Heads, "--heads");
        if (DModel % Heads != 0) throw new ArgumentException($"--heads {Heads} must divide --d-model {DModel}.", "--heads");
        if (Vocab < 2) throw new ArgumentException($"--vocab {Vocab}: use at least 2 (prompt tokens are drawn from [1, vocab)).", "--vocab");
        Positive(PromptTokens, "--prompt-tokens");
        Positive(Batch, "--batch");
        Positive(NewTokens, "--new-tokens");
        Positive(Repeats, "--repeats");
        Positive(Threads, "--threads");
        if (Warmup < 0) throw new ArgumentException($"--warmup {Warmup}: use 0 or more.", "--warmup");
        return this;
    }

    /// <summary>The model's shape: n_positions = prompt + new tokens, no dropout, EOS the last id (never a stop here).</summary>
    public GptConfig ModelConfig() => new GptConfig
    {
        Layers = Layers, EmbeddingSize = DModel, Heads = Heads, Positions = PromptTokens + NewTokens, VocabSize = Vocab, EosTokenId = Vocab - 1,
    }.WithoutDropout();
}

/// <summary>
/// Greedy generation throughput of <see cref="TokenGenerator"/> on a seeded GPT-2 policy: <c>Batch</c> random prompts of
/// <c>PromptTokens</c> tokens (uniform in [1, V)), <c>NewTokens</c> new tokens each (no EOS stop), one prefill then one
/// KV-cache decode step per token; generated tokens per second per round. The work of <c>bench/torch_generate_bench.py</c>.
/// Besides the rate it reports tokens per CPU-second of the process (all threads; less sensitive than wall time to other
/// work on a shared machine, though the pool's spin-waiting counts), the prefill's share (timed alone outside the rounds),
/// the decode step time and the managed allocation per token.
/// </summary>
public static class GenerationBench
{
    /// <summary>Runs the benchmark (warm-up, then <c>Repeats</c> timed rounds).</summary>
    /// <param name="options">What to run.</param>
    /// <param name="log">Receives one human-readable line per round (null: silent).</param>
    /// <param name="cancellationToken">Checked between rounds and steps.</param>
    public static BenchReport Run(GenerationBenchOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        double loadStart = ProcessMemory.LoadAverage1Min();
        using var pool = new WorkerPool(options.Threads);
        var config = options.ModelConfig();
        var model = GptLanguageModel.Create(config, (ulong)options.Seed);
        var rng = new Rng((ulong)options.Seed + 1);
        var prompts = new int[options.Batch][];
        for (int b = 0; b < prompts.Length; b++)
        {
            prompts[b] = new int[options.PromptTokens];
            for (int t = 0; t < options.PromptTokens; t++) prompts[b][t] = rng.NextInt(1, options.Vocab);
        }
        var generator = new TokenGenerator(model, pool);
        var sampling = new SamplingOptions { Greedy = true, MaxNewTokens = options.NewTokens, StopAtEos = false };
        long checksum = 0;
        void Round(int i)
        {
            var result = generator.Generate(prompts, sampling, cancellationToken: cancellationToken);
            checksum = result.Tokens.Sum(t => t.Sum(x => (long)x));
        }

        int warmupRounds = JitWarmup.Run(Round, options.Warmup, options.JitSettleSeconds, options.MaxWarmupSeconds, cancellationToken);
        long jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var rates = new double[options.Repeats];
        var roundMs = new double[options.Repeats];
        var cpuRates = new double[options.Repeats];
        for (int r = 0; r < options.Repeats; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long start = Stopwatch.GetTimestamp();
            var cpuStart = Environment.CpuUsage.TotalTime;
            Round(r);
            roundMs[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            cpuRates[r] = options.Batch * options.NewTokens / Math.Max((Environment.CpuUsage.TotalTime - cpuStart).TotalSeconds, 1e-9);
            rates[r] = options.Batch * options.NewTokens / (roundMs[r] / 1000);
            log?.Invoke($"  generate round {r}: {rates[r]:F1} tokens/s  ({roundMs[r]:F1} ms for {options.Batch} x {options.NewTokens} tokens)");
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        long jitWhileTimed = System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore;
        double prefillMs = PrefillMs(model, prompts, pool, options.Repeats);
        double medianRound = RewardModelBench.Median(roundMs);
        double stepMs = options.NewTokens > 1 ? (medianRound - prefillMs) / (options.NewTokens - 1) : double.NaN;

        var report = new BenchReport()
            .Set("bench", "rewardkit_generate_bench")
            .Set("mode", "generate")
            .Set("preset", options.Preset)
            .Set("layers", options.Layers)
            .Set("d_model", options.DModel)
            .Set("heads", options.Heads)
            .Set("vocab", options.Vocab)
            .Set("batch", options.Batch)
            .Set("prompt_tokens", options.PromptTokens)
            .Set("new_tokens", options.NewTokens)
            .Set("threads", pool.Threads)
            .Set("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription)
            .Set("cpu_capability", Gemm.BestIsa.ToString().ToLowerInvariant())
            .Set("params", (long)model.ParameterCount)
            .Set("warmup_rounds_run", warmupRounds)
            .Set("jit_methods_compiled_while_timed", jitWhileTimed)
            .Set("generate_tokens_per_s_best", rates.Max())
            .Set("generate_tokens_per_s_median", RewardModelBench.Median(rates))
            .Set("generate_tokens_per_s_rounds", rates)
            .Set("generate_tokens_per_cpu_s_median", RewardModelBench.Median(cpuRates))
            .Set("generate_round_ms_median", medianRound)
            .Set("prefill_ms_median", prefillMs)
            .Set("decode_step_ms_median", stepMs)
            .Set("allocated_kb_per_token", allocated / 1024.0 / (options.Repeats * (double)options.Batch * options.NewTokens))
            .Set("tokens_checksum", checksum)
            .Set("peak_rss_mb", ProcessMemory.PeakRssMb())
            .Set("loadavg_1min_start", loadStart)
            .Set("loadavg_1min_end", ProcessMemory.LoadAverage1Min());
        log?.Invoke($"generation: best {rates.Max():F1}  median {RewardModelBench.Median(rates):F1} tokens/s; prefill {prefillMs:F1} ms, decode step {stepMs:F2} ms");
        return report;
    }

    /// <summary>The median time of the prompts' prefill alone (cache filled, first logits), over <paramref name="times"/> runs.</summary>
    static double PrefillMs(GptLanguageModel model, int[][] prompts, WorkerPool pool, int times)
    {
        var tape = new Tape(pool) { RecordsGradients = false };
        var batch = TokenBatch.FromSequences(prompts);
        var ms = new double[times];
        for (int i = 0; i < times; i++)
        {
            var cache = new KvCache(model.Config, prompts.Length, prompts[0].Length);
            long start = Stopwatch.GetTimestamp();
            model.Prefill(tape, batch, cache);
            ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            tape.Reset();
        }
        return RewardModelBench.Median(ms);
    }
}
