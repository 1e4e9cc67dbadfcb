using System.Security.Cryptography;
using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference.Registry;
using RewardKit.Inference;
using RewardKit.Tensors;
using Engine = RewardKit.Tensors.Safetensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace RewardKit.Models;

/// <summary>What loading a checkpoint into a model did.</summary>
/// <param name="Loaded">Model parameters copied from the checkpoint.</param>
/// <param name="Missing">Model parameters the checkpoint lacks (freshly initialised, e.g. <c>score.weight</c>).</param>
/// <param name="Unexpected">Checkpoint tensors the model has no use for (e.g. <c>lm_head.weight</c>, the causal-mask buffers <c>attn.bias</c>).</param>
public sealed record CheckpointLoadReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected);

/// <summary>
/// A model folder Hugging Face opens as it is: <c>config.json</c>, <c>model.safetensors</c> (HF names and layouts),
/// <c>rewardkit.json</c> (<see cref="RewardModelMetadata"/>, Version = sha256 of the weights) and the tokenizer files.
/// </summary>
public static class RewardModelFolder
{
    /// <summary>The weights file inside a model folder.</summary>
    public const string WeightsFileName = "model.safetensors";

    /// <summary>
    /// Writes the folder atomically: everything goes to a temporary sibling folder, which then replaces <paramref name="directory"/>.
    /// <paramref name="tokenizerFiles"/> are copied in by file name; <paramref name="writeExtra"/> may write more files into the temporary folder.
    /// Returns the metadata written (with its Version set).
    /// </summary>
    public static RewardModelMetadata Save(GptRewardModel model, string directory, RewardModelMetadata? metadata = null,
        IEnumerable<string>? tokenizerFiles = null, Action<string>? writeExtra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ModelFolderFiles.Write(directory, model.Config.ToJson(), model.Parameters, metadata, tokenizerFiles, writeExtra, meta =>
        {
            meta.Extra!["pooling"] = JsonSerializer.SerializeToElement(model.Pooling == RewardPooling.LastToken ? "last_token" : "mean_response");
            ModelArchitecture.Set(meta, ModelArchitecture.Concat);
        });
    }

    /// <summary>
    /// Loads a folder written by <see cref="Save"/> (every parameter must be present). A quantised folder
    /// (<see cref="QuantizedModelFolder"/>) comes back with its int8 layers plugged in as <see cref="GptRewardModel.Conv1DKernel"/>.
    /// Refused with an <see cref="InvalidDataException"/> naming the file: a file that cannot be read (a symbolic-link loop, a
    /// directory, a read error), a config.json whose sizes disagree with the weights (checked before anything is allocated),
    /// a non-finite weight, and (unless <paramref name="verifyVersion"/> is false) weights whose sha256 is not the
    /// <c>version</c> recorded in rewardkit.json.
    /// </summary>
    /// <param name="directory">The model folder.</param>
    /// <param name="verifyVersion">Check model.safetensors against rewardkit.json's <c>version</c>; default true. Pass false
    /// only to open a folder whose weights were changed on purpose (the CLI's <c>--skip-version-check</c>).</param>
    public static (GptRewardModel Model, RewardModelMetadata Metadata) Load(string directory, bool verifyVersion = true)
    {
        if (ModelArchitecture.IsLoraAdapter(directory))
            throw new InvalidDataException($"{directory}: this folder is a LoRA adapter, not a full model; score, eval and serve read it as it is, or write a full model with `rewardkit merge-lora --adapter {directory} --out DIR`.");
        if (ReadFile(Path.Combine(directory, GptConfig.FileName), () => GptConfig.ReadArchitecture(directory)) == GptConfig.LanguageModel)
            throw new InvalidDataException($"{directory}: this folder holds a policy ({GptConfig.LanguageModel}), not a reward model; pass a folder made by `rewardkit train` (a policy generates text: `rewardkit generate --policy {directory}`).");
        var metadata = ReadFile(Path.Combine(directory, RewardModelMetadata.FileName), () => RewardModelMetadata.Load(directory));
        ModelArchitecture.Require(metadata, directory, ModelArchitecture.Concat);
        var configPath = Path.Combine(directory, GptConfig.FileName);
        var config = ReadFile(configPath, () => GptConfig.Load(directory));
        var weights = Path.Combine(directory, WeightsFileName);
        if (verifyVersion) VerifyVersion(weights, metadata, Path.Combine(directory, RewardModelMetadata.FileName));
        var pooling = metadata.Extra is { } extra && extra.TryGetValue("pooling", out var p) && p.ValueKind == JsonValueKind.String && p.GetString() == "mean_response"
            ? RewardPooling.MeanResponse : RewardPooling.LastToken;
        CheckpointLoadReport report;
        GptRewardModel model;
        using (var file = OpenWeights(weights))
        {
            CheckSizes(config, configPath, file);
            model = new GptRewardModel(config, pooling);
            report = LoadWeights(model, file, new Rng(0));
        }
        if (report.Missing.Count > 0)
            throw new InvalidDataException($"{weights}: missing tensors {string.Join(", ", report.Missing)}; the folder is incomplete (save it again).");
        if (QuantizedModelFolder.IsQuantized(metadata))
            model.Conv1DKernel = new QuantizedConv1D(model, QuantizedModelFolder.LoadLayers(model, metadata, directory));
        return (model, metadata);
    }

    /// <summary>
    /// Starts a reward model from a Hugging Face GPT-2 checkpoint folder (<c>GPT2Model</c> names without <c>transformer.</c>,
    /// <c>GPT2LMHeadModel</c> or <c>GPT2ForSequenceClassification</c>): sizes from its config.json, matching tensors copied,
    /// the rest (usually <c>score.weight</c>) initialised from <paramref name="seed"/>.
    /// </summary>
    public static (GptRewardModel Model, CheckpointLoadReport Report) InitializeFrom(string checkpointDirectory, ulong seed, RewardPooling pooling = RewardPooling.LastToken)
    {
        var configPath = Path.Combine(checkpointDirectory, GptConfig.FileName);
        var config = ReadFile(configPath, () => GptConfig.Load(checkpointDirectory));
        using var file = OpenWeights(Path.Combine(checkpointDirectory, WeightsFileName));
        CheckSizes(config, configPath, file);
        var model = new GptRewardModel(config, pooling);
        var rng = new Rng(seed);
        model.Initialize(rng);
        return (model, LoadWeights(model, file, rng));
    }

    /// <summary>Copies matching tensors of a safetensors file into <paramref name="model"/>; throws on a shape mismatch or a non-finite value, naming the tensor.</summary>
    public static CheckpointLoadReport LoadWeights(GptRewardModel model, string path, Rng rng)
    {
        using var file = OpenWeights(path);
        return LoadWeights(model, file, rng);
    }

    static CheckpointLoadReport LoadWeights(GptRewardModel model, Engine.SafetensorsFile file, Rng rng)
    {
        var path = file.Path;
        var loaded = new List<string>();
        var unexpected = new List<string>();
        foreach (var name in file.Names)
        {
            var target = ToModelName(name);
            var parameter = target is null ? null : model.Parameters.TryGet(target);
            if (parameter is null) { unexpected.Add(name); continue; }
            var shape = file[name].Shape;
            if (!Shapes.Equal(shape, parameter.Shape))
                throw new InvalidDataException($"{path}: tensor '{name}' has shape {Shapes.Format(shape)} but the model's '{target}' is {Shapes.Format(parameter.Shape)}; the checkpoint does not match config.json.");
            var values = ReadFile(path, () => file.ReadFloats(name));
            RequireFinite(values, name, path);
            values.CopyTo(parameter.Data);
            loaded.Add(target!);
        }
        var missing = model.Parameters.Entries.Select(e => e.Name).Except(loaded, StringComparer.Ordinal).ToList();
        foreach (var name in missing) model.InitializeParameter(name, rng);
        return new CheckpointLoadReport(loaded, missing, unexpected);
    }

    /// <summary>Throws naming the tensor, the first bad index and value, and how many there are, when any value is NaN or infinite.</summary>
    internal static void RequireFinite(ReadOnlySpan<float> values, string tensor, string path)
    {
        if (TensorPrimitives.IsFiniteAll(values)) return;
        int first = -1, count = 0;
        for (var i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) { if (first < 0) first = i; count++; }
        throw new InvalidDataException($"{path}: tensor '{tensor}' holds {values[first]} at index {first} ({count} of {values.Length} values are NaN or infinite); "
            + "the weights are corrupt (a diverged training run, or an edited file) and would give NaN rewards: restore the folder or train again.");
    }

    /// <summary>
    /// Checks the sizes config.json gives (vocab_size, n_positions, n_embd, n_layer) against the tensors' shapes in the
    /// weights header, before a model of those sizes is allocated: a wrong or absurd config.json (e.g. vocab_size
    /// 2147483647) is reported by key instead of failing an allocation.
    /// </summary>
    static void CheckSizes(GptConfig config, string configPath, Engine.SafetensorsFile file)
    {
        void Require(string modelName, string key, int value, int dimension)
        {
            if (file.Names.FirstOrDefault(n => ToModelName(n) == GptRewardModel.BackbonePrefix + modelName) is not { } tensor) return;
            var shape = file[tensor].Shape;
            if (shape.Length <= dimension || shape[dimension] != value)
                throw new InvalidDataException($"{configPath}: {key} is {value} but {file.Path} holds '{tensor}' of shape {Shapes.Format(shape)}; config.json and the weights do not belong together (fix {key} or use the matching weights).");
        }
        Require("wte.weight", "vocab_size", config.VocabSize, 0);
        Require("wte.weight", "n_embd", config.EmbeddingSize, 1);
        Require("wpe.weight", "n_positions", config.Positions, 0);
        Require("ln_f.weight", "n_embd", config.EmbeddingSize, 0);
        var blockPrefix = GptRewardModel.BackbonePrefix + "h.";
        var blocks = 0;
        foreach (var name in file.Names.Select(ToModelName).OfType<string>().Where(n => n.StartsWith(blockPrefix, StringComparison.Ordinal)))
        {
            var rest = name.AsSpan(blockPrefix.Length);
            var dot = rest.IndexOf('.');
            if (dot > 0 && int.TryParse(rest[..dot], out var index)) blocks = Math.Max(blocks, index + 1);
        }
        if (blocks > 0 && blocks != config.Layers)
            throw new InvalidDataException($"{configPath}: n_layer is {config.Layers} but {file.Path} holds {blocks} transformer blocks; config.json and the weights do not belong together.");
    }

    /// <summary>Checks that the weights' sha256 is the <c>version</c> rewardkit.json records (the CLI's --skip-version-check skips this).</summary>
    internal static void VerifyVersion(string weights, RewardModelMetadata metadata, string metadataPath)
    {
        if (!File.Exists(weights)) return; // reported with its own message when the weights are opened
        const string Skip = "or load it anyway with --skip-version-check (serve: --skip-version-check, RewardKit:SkipVersionCheck)";
        if (string.IsNullOrWhiteSpace(metadata.Version))
            throw new InvalidDataException($"{metadataPath}: no 'version' (the sha256 of {WeightsFileName}), so the weights cannot be checked; save the model again with RewardKit, {Skip}.");
        var sha = ReadFile(weights, () => FileHash.Sha256(weights));
        if (!string.Equals(sha, metadata.Version, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{weights}: its sha256 is {sha} but {metadataPath} records version {metadata.Version}; the weights changed after the model was saved "
                + $"(edited, corrupted, or copied from another model). Restore the folder or save it again, {Skip}.");
    }

    /// <summary>Opens a weights file (header validated, data memory-mapped), naming the file in every failure.</summary>
    internal static Engine.SafetensorsFile OpenWeights(string path)
    {
        if (Directory.Exists(path)) throw new InvalidDataException($"{path}: is a directory; the weights must be a safetensors file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no weights file.", path);
        return ReadFile(path, () => Engine.SafetensorsFile.Open(path));
    }

    /// <summary>
    /// Runs one read of a model-folder file: an I/O failure (a symbolic-link loop, a directory where the file belongs, a
    /// device error, no permission) becomes an <see cref="InvalidDataException"/> naming the file and what to check.
    /// </summary>
    internal static T ReadFile<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (Exception e) when (e is IOException and not FileNotFoundException and not DirectoryNotFoundException || e is UnauthorizedAccessException)
        {
            var why = System.Text.RegularExpressions.Regex.Replace(e.Message, @"\s*:\s*'[^']*'\s*$", "").TrimEnd('.'); // .NET appends " : 'PATH'"
            throw new InvalidDataException($"{path}: cannot be read ({why}); "
                + "check that it is a readable regular file (not a directory, a broken or looping symbolic link, or a file without read permission).", e);
        }
    }

    /// <summary>Maps a checkpoint name to the model's: GPT2Model names gain <c>transformer.</c>; the score is kept; others are null.</summary>
    static string? ToModelName(string name) => name == GptRewardModel.ScoreWeightName ? name : GptTransformer.BodyName(name);
}
