using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace RewardKit.Training;

/// <summary>
/// The settings of a policy SFT run (<see cref="PolicySftTrainer"/>, <c>rewardkit sft</c>): causal-LM loss on the response
/// tokens of prompt/response records (or the chosen response of pairs), each response followed by end-of-text so the policy
/// learns to stop. The snake_case names in the docs are the keys of the <c>--config</c> YAML.
/// </summary>
public sealed record SftOptions
{
    // --- model ---

    /// <summary><c>init</c>: start from this folder (a policy, a Hugging Face GPT-2 folder, or a reward model whose backbone becomes the policy); its tokenizer and template come with it. Default null: a new model of <see cref="Preset"/>.</summary>
    public string? Init { get; init; }

    /// <summary><c>preset</c> of a new model: tiny (2 layers, width 128), small (4 × 256) or base (GPT-2 124M shape). Default tiny.</summary>
    public ModelPreset Preset { get; init; } = ModelPreset.Tiny;

    /// <summary><c>tokenizer</c> folder of a new model; default null: a byte-level BPE of <see cref="VocabSize"/> tokens trained on the data.</summary>
    public string? Tokenizer { get; init; }

    /// <summary><c>vocab_size</c> of a tokenizer trained on the data. Default 4096.</summary>
    public int VocabSize { get; init; } = 4096;

    /// <summary><c>template</c>: plain, hh or chat; default null: the init folder's, else hh for HH-RLHF transcripts, else plain.</summary>
    public string? Template { get; init; }

    /// <summary><c>max_length</c> of prompt + response + end-of-text in tokens (the prompt is cut from the left first). Default 128.</summary>
    public int MaxLength { get; init; } = 128;

    /// <summary><c>append_eos</c>: end every response with end-of-text, inside the loss (how a policy learns to stop). Default true.</summary>
    public bool AppendEos { get; init; } = true;

    /// <summary><c>dropout</c> of embeddings and residuals while training. Default 0.</summary>
    public float Dropout { get; init; }

    // --- optimisation ---

    /// <summary><c>max_steps</c>: optimiser steps; 0 = <see cref="Epochs"/> passes over the data. Default 0.</summary>
    public int MaxSteps { get; init; }

    /// <summary><c>epochs</c> when <see cref="MaxSteps"/> is 0. Default 1.</summary>
    public double Epochs { get; init; } = 1;

    /// <summary><c>batch_size</c>: sequences per step. Default 16.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary><c>learning_rate</c> at the peak of the schedule (5 % warm-up, then cosine decay; the reward trainer's SFT warm start uses the same). Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary><c>warmup_ratio</c> of the steps spent warming up. Default 0.05.</summary>
    public double WarmupRatio { get; init; } = 0.05;

    /// <summary><c>weight_decay</c> of AdamW (none on biases and LayerNorm weights). Default 0.01.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary><c>max_grad_norm</c>: global-norm clipping (0 = off). Default 1.</summary>
    public double MaxGradNorm { get; init; } = 1;

    /// <summary><c>seed</c> of a new model, the data order and dropout. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    // --- run ---

    /// <summary><c>checkpoint_every</c>: steps between checkpoints (one is always written at the end and on cancellation). Default 100.</summary>
    public int CheckpointEvery { get; init; } = 100;

    /// <summary><c>resume</c>: continue from OUT/checkpoint (bit-identical to an uninterrupted run). Default false.</summary>
    public bool Resume { get; init; }

    /// <summary><c>skip_invalid</c>: skip invalid records (counted, listed) instead of stopping at the first. Default false.</summary>
    public bool SkipInvalid { get; init; }

    /// <summary><c>threads</c>: worker threads (0 = all cores). Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and the fix.</summary>
    public SftOptions Validate()
    {
        Require(Enum.IsDefined(Preset), "preset", "use tiny, small or base.");
        Require(VocabSize >= 260, "vocab_size", "must be at least 260 (256 bytes and the special tokens).");
        Require(Template is null or "plain" or "hh" or "chat", "template", $"'{Template}' is not a template; use plain, hh or chat.");
        Require(MaxLength >= 2, "max_length", "must be at least 2 (a prompt token and a response token).");
        Require(Dropout is >= 0 and < 1, "dropout", "must be in [0, 1).");
        Require(MaxSteps >= 0, "max_steps", "must be ≥ 0 (0 = epochs).");
        Require(Epochs > 0 && double.IsFinite(Epochs), "epochs", "must be > 0.");
        Require(BatchSize >= 1, "batch_size", "must be at least 1.");
        Require(LearningRate is > 0 and < 1, "learning_rate", "must be in (0, 1).");
        Require(WarmupRatio is >= 0 and < 1, "warmup_ratio", "must be in [0, 1).");
        Require(WeightDecay >= 0, "weight_decay", "must be ≥ 0.");
        Require(MaxGradNorm >= 0, "max_grad_norm", "must be ≥ 0 (0 = no clipping).");
        Require(CheckpointEvery >= 0, "checkpoint_every", "must be ≥ 0.");
        Require(Threads >= 0, "threads", "must be ≥ 0 (0 = all cores).");
        return this;
    }

    /// <summary>Reads the options from YAML with snake_case keys (<c>learning_rate: 0.0003</c>, <c>preset: small</c>); an unknown key or bad value names the file and line.</summary>
    public static SftOptions LoadYaml(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: the SFT config file does not exist.", path);
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance)
            .WithTypeConverter(new EnumYamlConverter()).Build();
        try
        {
            return deserializer.Deserialize<SftOptions>(File.ReadAllText(path)) ?? new SftOptions();
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidDataException($"{path}:{e.Start.Line}: {e.InnerException?.Message ?? e.Message} (keys are snake_case, e.g. learning_rate: 0.001).", e);
        }
    }

    /// <summary>The options as YAML (snake_case keys), as stored in the checkpoint and the policy's rewardkit.json.</summary>
    public string ToYaml() =>
        new SerializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).WithTypeConverter(new EnumYamlConverter()).Build().Serialize(this);

    static void Require(bool condition, string field, string fix)
    {
        if (!condition) throw new ArgumentException($"{field}: {fix}", field);
    }
}
