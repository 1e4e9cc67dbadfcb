using System.Globalization;

namespace RewardKit.Benchmarks;

/// <summary>
/// The work of one reward-model benchmark run, with the presets and defaults of the PyTorch reference
/// <c>../shared/bench/torch_rm_bench.py</c> (same names, so a run of each does the same work):
/// <code>
/// preset  layers d_model heads seq vocab   warmup steps infer_warmup infer_steps
/// tiny    2      128     4     64  8192    3      20    3            20
/// small   4      256     4     128 16384   2      8     2            8
/// gpt2    12     768     12    256 50257   1      2     1            2
/// </code>
/// Without a preset the reference's base is <c>small</c>'s shape. Call <see cref="Validate"/> before use.
/// </summary>
public sealed record RewardModelBenchOptions
{
    // ---- model ----------------------------------------------------------------------------------------------

    /// <summary>The preset these values came from (tiny, small, gpt2) or null for a custom shape.</summary>
    public string? Preset { get; init; }

    /// <summary>Transformer blocks L. Default 4.</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Embedding width d (C). Default 256.</summary>
    public int DModel { get; init; } = 256;

    /// <summary>Attention heads; must divide <see cref="DModel"/>. Default 4.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Padded sequence length T (also the position table's size, as in the reference). Default 128.</summary>
    public int Seq { get; init; } = 128;

    /// <summary>Vocabulary size V. Default 16384.</summary>
    public int Vocab { get; init; } = 16384;

    // ---- work -----------------------------------------------------------------------------------------------

    /// <summary>Preference pairs per training step (2× sequences: chosen rows first, then rejected). Default 8.</summary>
    public int PairsPerBatch { get; init; } = 8;

    /// <summary>Sequences per inference batch. Default 32.</summary>
    public int InferBatch { get; init; } = 32;

    /// <summary>Timed training steps per repeat. Default 8.</summary>
    public int Steps { get; init; } = 8;

    /// <summary>Untimed training steps before timing. Default 2.</summary>
    public int Warmup { get; init; } = 2;

    /// <summary>Timed inference batches per repeat. Default 8.</summary>
    public int InferSteps { get; init; } = 8;

    /// <summary>Untimed inference batches before timing. Default 2.</summary>
    public int InferWarmup { get; init; } = 2;

    /// <summary>Timed rounds; the best and median round are reported. Default 3.</summary>
    public int Repeats { get; init; } = 3;

    /// <summary>Threads, the caller included. Default 2 (as the reference).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Seed of the model initialisation; the synthetic batches use <c>Seed + 1</c>. Default 1234.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Training: LoRA rank r (0 = full fine-tuning): the model is frozen and only rank-r adapters on every Conv1D
    /// layer (c_attn, c_proj, c_fc; α = 8) and the head are trained (<see cref="Models.Lora.LoraRewardModel"/>). Default 0.</summary>
    public int LoraR { get; init; }

    /// <summary>Training recomputes the attention probabilities in the backward instead of keeping them (<see cref="RewardKit.Tensors.Tape.RecomputesAttention"/>). Default off.</summary>
    public bool RecomputeAttention { get; init; }

    /// <summary>Also time the step's matrix products alone (<see cref="Benchmarks.GemmFloor"/>), a lower bound on the step. Default off.</summary>
    public bool GemmFloor { get; init; }

    /// <summary>
    /// Compute every row of the last block, as the reference does, instead of only the rows the reward reads
    /// (<see cref="Models.GptRewardModel.ComputeLastBlockOnRewardRowsOnly"/>): the engine's speed on exactly the reference's
    /// products. Default off.
    /// </summary>
    public bool FullLastBlock { get; init; }

    /// <summary>
    /// After the fixed warm-up, keep warming up until no method has been JIT-compiled for this many seconds (tiered
    /// compilation recompiles hot methods in the background for a while: measured rounds of the tiny preset rose
    /// 158 -> 251 -> 349 pairs/s within one run without it). 0 turns it off. Default 1.
    /// </summary>
    public double JitSettleSeconds { get; init; } = 1.0;

    /// <summary>The longest the JIT warm-up may take, in seconds (default 30).</summary>
    public double MaxWarmupSeconds { get; init; } = 30;

    // ---- training hyper-parameters (fixed by the reference) -------------------------------------------------

    /// <summary>AdamW learning rate, 1e-4.</summary>
    public const double LearningRate = 1e-4;

    /// <summary>AdamW decoupled weight decay, 0.01.</summary>
    public const double WeightDecay = 0.01;

    /// <summary>Global gradient-norm clipping threshold, 1.0.</summary>
    public const double MaxGradNorm = 1.0;

    /// <summary>The preset names.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["tiny", "small", "gpt2"];

    /// <summary>The named preset (tiny, small, gpt2); explicit settings override it with <c>with { ... }</c>.</summary>
    public static RewardModelBenchOptions FromPreset(string name) => name.ToLowerInvariant() switch
    {
        "tiny" => new() { Preset = "tiny", Layers = 2, DModel = 128, Heads = 4, Seq = 64, Vocab = 8192, Warmup = 3, Steps = 20, InferWarmup = 3, InferSteps = 20 },
        "small" => new() { Preset = "small", Layers = 4, DModel = 256, Heads = 4, Seq = 128, Vocab = 16384, Warmup = 2, Steps = 8, InferWarmup = 2, InferSteps = 8 },
        "gpt2" => new() { Preset = "gpt2", Layers = 12, DModel = 768, Heads = 12, Seq = 256, Vocab = 50257, Warmup = 1, Steps = 2, InferWarmup = 1, InferSteps = 2 },
        _ => throw new ArgumentException($"--preset '{name}' is unknown; use one of {string.Join(", ", PresetNames)}.", nameof(name)),
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting (as its CLI flag) and the fix.</summary>
    public RewardModelBenchOptions Validate()
    {
        static void Positive(int value, string flag)
        {
            if (value < 1) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{flag} {value}: use a positive number."), flag);
        }
        Positive(Layers, "--layers");
        Positive(DModel, "--d-model");
        Positive(Heads, "--heads");
        if (DModel % Heads != 0) throw new ArgumentException($"--heads {Heads} must divide --d-model {DModel}.", "--heads");
        if (Seq < 2) throw new ArgumentException($"--seq {Seq}: use at least 2 (lengths are drawn from [seq/2, seq]).", "--seq");
        if (Vocab < 2) throw new ArgumentException($"--vocab {Vocab}: use at least 2 (id 0 is the pad, real tokens are [1, vocab)).", "--vocab");
        Positive(PairsPerBatch, "--pairs-per-batch");
        Positive(InferBatch, "--infer-batch");
        Positive(Steps, "--steps");
        Positive(InferSteps, "--infer-steps");
        Positive(Repeats, "--repeats");
        Positive(Threads, "--threads");
        if (LoraR < 0) throw new ArgumentException($"--lora-r {LoraR}: use 0 (full fine-tuning) or a positive rank such as 8.", "--lora-r");
        if (Warmup < 0) throw new ArgumentException($"--warmup {Warmup}: use 0 or more.", "--warmup");
        if (InferWarmup < 0) throw new ArgumentException($"--infer-warmup {InferWarmup}: use 0 or more.", "--infer-warmup");
        return this;
    }

    /// <summary>
    /// The reference's FLOP model, per token of one forward pass: L·(24·d² + 4·T·d) (the Linear layers and the full T×T
    /// attention products; LayerNorm, GELU, softmax, embedding, head and AdamW ignored).
    /// </summary>
    public double ForwardFlopPerToken => (double)Layers * (24.0 * DModel * DModel + 4.0 * Seq * DModel);

    /// <summary>Training FLOP per pair: 3 (forward + backward ≈ 2× forward) · forward/token · 2·T.</summary>
    public double TrainFlopPerPair => 3 * ForwardFlopPerToken * 2 * Seq;

    /// <summary>Inference FLOP per sequence: forward/token · T.</summary>
    public double InferFlopPerSequence => ForwardFlopPerToken * Seq;
}
