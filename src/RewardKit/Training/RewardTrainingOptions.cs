using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace RewardKit.Training;

/// <summary>Which objective the trainer minimises (see Training/Losses).</summary>
public enum RewardLossKind
{
    /// <summary>Bradley-Terry −log σ(r_w − r_l − m), with optional margin, label smoothing, weights and centering (default).</summary>
    BradleyTerry,
    /// <summary>Contrastive −log e^(r_w/τ) / (e^(r_w/τ) + e^(r_l/τ)).</summary>
    Contrastive,
    /// <summary>Hinge max(0, m − Δ).</summary>
    Hinge,
    /// <summary>Focal (1 − p)^γ · (−log p), p = σ(Δ).</summary>
    Focal,
}

/// <summary>How a sequence's reward is read from the final hidden states.</summary>
public enum RewardPooling
{
    /// <summary>At the last real token of each row, as GPT2ForSequenceClassification (default).</summary>
    LastToken,
    /// <summary>The mean over the response's tokens.</summary>
    MeanResponse,
}

/// <summary>What to do with a pair whose prompt + response exceed <see cref="RewardTrainingOptions.MaxLength"/>.</summary>
public enum OverflowHandling
{
    /// <summary>Cut the prompt from the left, then (only if needed) the response's end; every cut is counted (default).</summary>
    Truncate,
    /// <summary>Leave the pair out, counted and reported.</summary>
    Drop,
    /// <summary>Stop with an error naming the record.</summary>
    Error,
}

/// <summary>
/// Everything a reward-model training run needs. Defaults train the <c>tiny</c> preset on the built-in world in a few minutes
/// on two cores. The same text documents the CLI flags of <c>rewardkit train</c> and the keys of its <c>--config</c> YAML file
/// (snake_case: <c>learning_rate: 0.001</c>).
/// </summary>
public sealed record RewardTrainingOptions
{
    // ---- model ------------------------------------------------------------------------------------------------

    /// <summary>Named model size: tiny (2 layers, d 128), small (4, 256) or base (GPT-2 124M shape). Default tiny.</summary>
    public string Preset { get; init; } = "tiny";

    /// <summary>A GPT-2 checkpoint or RewardKit model folder to start from instead of random weights (its tokenizer is used). Default none.</summary>
    public string? Init { get; init; }

    /// <summary>Where the reward is read: last real token (default) or mean over response tokens.</summary>
    public RewardPooling Pooling { get; init; } = RewardPooling.LastToken;

    /// <summary>Maximum tokens of prompt + response. Default 128.</summary>
    public int MaxLength { get; init; } = 128;

    /// <summary>Dropout on embeddings, attention and residuals. Default 0 (as TRL's reward models usually train).</summary>
    public float Dropout { get; init; }

    /// <summary>Vocabulary size of the BPE tokenizer trained on the training data when no tokenizer is given. Default 4096.</summary>
    public int VocabSize { get; init; } = 4096;

    /// <summary>A tokenizer folder (GPT-2 files or tokenizer.json) to use instead of training one. Default none.</summary>
    public string? Tokenizer { get; init; }

    /// <summary>Prompt template: "plain" ("Human: {prompt}\n\nAssistant: {response}") or "hh" (HH-RLHF transcripts as they are). Default: detected from the data.</summary>
    public string? Template { get; init; }

    /// <summary>Skip invalid records (listed in the start-up checks) instead of stopping at the first with the reader's message. Default false.</summary>
    public bool SkipInvalid { get; init; }

    /// <summary>Over-long pairs: truncate (default), drop or error.</summary>
    public OverflowHandling OnOverflow { get; init; } = OverflowHandling.Truncate;

    // ---- objective --------------------------------------------------------------------------------------------

    /// <summary>The objective. Default Bradley-Terry.</summary>
    public RewardLossKind Loss { get; init; } = RewardLossKind.BradleyTerry;

    /// <summary>Use each pair's <c>margin</c> field in −log σ(Δ − m) (TRL's margin). Default false.</summary>
    public bool UseMargin { get; init; }

    /// <summary>Label smoothing ε in −(1−ε) log σ(Δ) − ε log σ(−Δ). Default 0.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Weigh each pair by its <c>weight</c> field (annotator confidence). Default false.</summary>
    public bool UseWeights { get; init; }

    /// <summary>Reward centering coefficient c in + c·mean((r_w + r_l)²) (Eisenstein et al. 2023; TRL's center_rewards_coefficient). Default 0.</summary>
    public double CenterRewardsCoefficient { get; init; }

    /// <summary>Temperature τ of the contrastive loss. Default 1.</summary>
    public double Temperature { get; init; } = 1;

    /// <summary>Margin m of the hinge loss. Default 1.</summary>
    public double HingeMargin { get; init; } = 1;

    /// <summary>Focusing parameter γ of the focal loss. Default 2.</summary>
    public double FocalGamma { get; init; } = 2;

    /// <summary>Explicit L2 penalty λ‖φ‖² added to the loss, besides AdamW's decoupled decay. Default 0.</summary>
    public double L2 { get; init; }

    // ---- optimisation -----------------------------------------------------------------------------------------

    /// <summary>Peak AdamW learning rate of the reward training. Default 2e-4: after the SFT warm start, the tiny preset on the
    /// built-in world reached validation accuracy 0.792 at 2e-4, 0.784 at 5e-4 (the best rate without the warm start) and
    /// 0.770 at 1e-4 (one seed each; bench/world-accuracy-notes.md). From a pretrained GPT-2, try 1e-5.</summary>
    public double LearningRate { get; init; } = 2e-4;

    /// <summary>AdamW decoupled weight decay; biases and LayerNorm weights get none. Default 0.01.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Share of the steps spent warming the learning rate up linearly. Default 0.05.</summary>
    public double WarmupRatio { get; init; } = 0.05;

    /// <summary>Decay after warm-up: "cosine" (default), "linear" or "constant".</summary>
    public string Schedule { get; init; } = "cosine";

    /// <summary>Global gradient-norm clipping threshold (0 = off). Default 1.</summary>
    public double MaxGradNorm { get; init; } = 1;

    /// <summary>Pairs per optimiser step, before accumulation. Default 16.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Micro-batches accumulated per optimiser step. Default 1.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Passes over the training data (ignored when <see cref="MaxSteps"/> is set). Default 3, as Hugging Face's
    /// TrainingArguments (10,770 steps on the 57,433 pairs of the built-in world's training pairs, rankings and ratings, as
    /// quickstart trains; held-out accuracy still rose from 2 to 3 epochs there: bench/world-accuracy-notes.md, session 16).</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Stop after this many optimiser steps (0 = use <see cref="Epochs"/>). Default 0.</summary>
    public int MaxSteps { get; init; }

    /// <summary>Seed of initialisation, shuffling and dropout. Default 42.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Worker threads (0 = all cores). Results are identical run to run for a fixed count.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Data-parallel ranks of the run (<c>mpirun -np N</c>). Recorded, not chosen: the trainer sets it from the launcher,
    /// so a value read from a config is replaced by the actual one. Default 1.
    /// </summary>
    public int WorldSize { get; init; } = 1;

    // ---- SFT warm start ---------------------------------------------------------------------------------------

    /// <summary>
    /// Steps of supervised fine-tuning before the reward head trains: the backbone learns to continue each prompt with its
    /// chosen response (causal-LM loss on the response tokens, head tied to the token table), as InstructGPT starts its reward
    /// model from the SFT model. A model trained from scratch knows no language; this gives it a per-token signal about the
    /// content of good answers that the one-bit preference labels cannot (seed-1 quickstart on the built-in world: test accuracy 0.728 → 0.786,
    /// bench/world-accuracy-notes.md). Null (default) = 40 % of the reward steps from scratch, 0 with <see cref="Init"/>.
    /// </summary>
    public int? SftSteps { get; init; }

    /// <summary>Peak AdamW learning rate of the SFT warm start (5 % warm-up, cosine decay). Default 1e-3.</summary>
    public double SftLearningRate { get; init; } = 1e-3;

    /// <summary>Chosen sequences per SFT step. Default 16 (on the built-in world as good as 32 at half the time per step).</summary>
    public int SftBatchSize { get; init; } = 16;

    /// <summary>The SFT steps this run takes for <paramref name="rewardSteps"/> reward steps (see <see cref="SftSteps"/>).</summary>
    public long SftStepsFor(long rewardSteps) => SftSteps ?? (Init is null ? (long)Math.Ceiling(0.4 * rewardSteps) : 0);

    // ---- evaluation and checkpoints ---------------------------------------------------------------------------

    /// <summary>Evaluate on the validation data every N steps (0 = only at the end). Default 500.</summary>
    public int EvalEvery { get; init; } = 500;

    /// <summary>Metric that decides the best checkpoint and early stopping: "accuracy" (higher is better) or "loss". Default accuracy.</summary>
    public string BestMetric { get; init; } = "accuracy";

    /// <summary>Stop after this many evaluations without improvement (0 = never). Default 0.</summary>
    public int Patience { get; init; }

    /// <summary>Write a resumable checkpoint every N steps (0 = only at evaluations and the end). Default 0.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Continue from the checkpoint in the output folder. Default false.</summary>
    public bool Resume { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field and the fix.</summary>
    public void Validate()
    {
        static void Require(bool ok, string field, string message)
        {
            if (!ok) throw new ArgumentException($"training option '{field}': {message}");
        }
        Require(Preset is "tiny" or "small" or "base", "preset", $"'{Preset}' is not a preset; use tiny, small or base.");
        Require(MaxLength is >= 8 and <= 1024, "max_length", $"{MaxLength} must be between 8 and 1024 tokens.");
        Require(Dropout is >= 0 and < 1, "dropout", $"{Dropout} must be in [0, 1).");
        Require(VocabSize is >= 260 and <= 100_000, "vocab_size", $"{VocabSize} must be between 260 and 100000.");
        Require(LabelSmoothing is >= 0 and < 0.5, "label_smoothing", $"{LabelSmoothing} must be in [0, 0.5).");
        Require(CenterRewardsCoefficient >= 0, "center_rewards_coefficient", "must be non-negative.");
        Require(Temperature > 0, "temperature", "must be positive.");
        Require(FocalGamma >= 0, "focal_gamma", "must be non-negative.");
        Require(L2 >= 0, "l2", "must be non-negative.");
        Require(LearningRate is > 0 and < 1, "learning_rate", $"{LearningRate} must be in (0, 1); try 1e-3 from scratch or 1e-5 from a pretrained GPT-2.");
        Require(WeightDecay >= 0, "weight_decay", "must be non-negative.");
        Require(WarmupRatio is >= 0 and < 1, "warmup_ratio", "must be in [0, 1).");
        Require(Schedule is "cosine" or "linear" or "constant", "schedule", $"'{Schedule}' is not a schedule; use cosine, linear or constant.");
        Require(MaxGradNorm >= 0, "max_grad_norm", "must be non-negative (0 turns clipping off).");
        Require(BatchSize >= 1, "batch_size", "must be at least 1 pair.");
        Require(GradientAccumulationSteps >= 1, "gradient_accumulation_steps", "must be at least 1.");
        Require(Epochs >= 1, "epochs", "must be at least 1.");
        Require(MaxSteps >= 0, "max_steps", "must be non-negative (0 = use epochs).");
        Require(Threads >= 0, "threads", "must be non-negative (0 = all cores).");
        Require(WorldSize >= 1, "world_size", "must be at least 1 (it is recorded from mpirun -np N).");
        Require(SftSteps is null or >= 0, "sft_steps", "must be non-negative (0 turns the SFT warm start off).");
        Require(SftLearningRate is > 0 and < 1, "sft_learning_rate", $"{SftLearningRate} must be in (0, 1).");
        Require(SftBatchSize >= 1, "sft_batch_size", "must be at least 1 sequence.");
        Require(EvalEvery >= 0, "eval_every", "must be non-negative.");
        Require(BestMetric is "accuracy" or "loss", "best_metric", $"'{BestMetric}' is not a metric; use accuracy or loss.");
        Require(Patience >= 0, "patience", "must be non-negative.");
        Require(CheckpointEvery >= 0, "checkpoint_every", "must be non-negative.");
        Require(Template is null or "plain" or "hh" or "chat", "template", $"'{Template}' is not a template; use plain, hh or chat.");
    }

    /// <summary>Reads options from a YAML file with snake_case keys; unknown keys are an error naming the key.</summary>
    public static RewardTrainingOptions LoadYaml(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: the training config file does not exist.", path);
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();
        try
        {
            return deserializer.Deserialize<RewardTrainingOptions>(File.ReadAllText(path)) ?? new RewardTrainingOptions();
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidDataException($"{path}:{e.Start.Line}: {e.InnerException?.Message ?? e.Message} (keys are snake_case, e.g. learning_rate: 0.001).", e);
        }
    }

    /// <summary>The options as YAML (snake_case keys), the form stored in the model's rewardkit.json and accepted by <see cref="LoadYaml"/>.</summary>
    public string ToYaml() =>
        new SerializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build().Serialize(this);
}
