using RewardKit.Inference.Registry;
using System.Security.Cryptography;
using System.Text.Json;
using RewardKit.Inference;
using RewardKit.Inference.Quantization;
using RewardKit.Tensors;

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
        var full = Path.GetFullPath(directory);
        var temp = full.TrimEnd(Path.DirectorySeparatorChar) + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            File.WriteAllText(Path.Combine(temp, GptConfig.FileName), model.Config.ToJson());
            var weights = Path.Combine(temp, WeightsFileName);
            SafetensorsFile.Write(weights, model.Parameters.Entries.Select(e => (e.Name, e.Tensor.Shape, e.Tensor.ToArray())));
            foreach (var file in tokenizerFiles ?? [])
            {
                if (!File.Exists(file)) throw new FileNotFoundException($"RewardModelFolder.Save: tokenizer file '{file}' does not exist.", file);
                File.Copy(file, Path.Combine(temp, Path.GetFileName(file)));
            }
            writeExtra?.Invoke(temp);
            var meta = metadata ?? new RewardModelMetadata { Name = Path.GetFileName(full) };
            using (var stream = File.OpenRead(weights)) meta.Version = Convert.ToHexStringLower(SHA256.HashData(stream));
            meta.Extra ??= [];
            meta.Extra["pooling"] = JsonSerializer.SerializeToElement(model.Pooling == RewardPooling.LastToken ? "last_token" : "mean_response");
            meta.Save(temp);
            AtomicFile.ReplaceDirectory(temp, full);
            return meta;
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Loads a folder written by <see cref="Save"/> (every parameter must be present). A quantised folder
    /// (<see cref="QuantizedModelFolder"/>) comes back with its int8 layers plugged in as <see cref="GptRewardModel.Conv1DKernel"/>.
    /// </summary>
    public static (GptRewardModel Model, RewardModelMetadata Metadata) Load(string directory)
    {
        var config = GptConfig.Load(directory);
        var metadata = RewardModelMetadata.Load(directory);
        var pooling = metadata.Extra is { } extra && extra.TryGetValue("pooling", out var p) && p.GetString() == "mean_response"
            ? RewardPooling.MeanResponse : RewardPooling.LastToken;
        var model = new GptRewardModel(config, pooling);
        var report = LoadWeights(model, Path.Combine(directory, WeightsFileName), new Rng(0));
        if (report.Missing.Count > 0)
            throw new InvalidDataException($"{Path.Combine(directory, WeightsFileName)}: missing tensors {string.Join(", ", report.Missing)}; the folder is incomplete (save it again).");
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
        var model = new GptRewardModel(GptConfig.Load(checkpointDirectory), pooling);
        var rng = new Rng(seed);
        model.Initialize(rng);
        return (model, LoadWeights(model, Path.Combine(checkpointDirectory, WeightsFileName), rng));
    }

    /// <summary>Copies matching tensors of a safetensors file into <paramref name="model"/>; throws on a shape mismatch naming the tensor.</summary>
    public static CheckpointLoadReport LoadWeights(GptRewardModel model, string path, Rng rng)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no weights file.", path);
        var tensors = SafetensorsFile.Read(path);
        var loaded = new List<string>();
        var unexpected = new List<string>();
        foreach (var (name, (shape, values)) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var target = ToModelName(name);
            var parameter = target is null ? null : model.Parameters.TryGet(target);
            if (parameter is null) { unexpected.Add(name); continue; }
            if (!Shapes.Equal(shape, parameter.Shape))
                throw new InvalidDataException($"{path}: tensor '{name}' has shape {Shapes.Format(shape)} but the model's '{target}' is {Shapes.Format(parameter.Shape)}; the checkpoint does not match config.json.");
            values.CopyTo(parameter.Data);
            loaded.Add(target!);
        }
        var missing = model.Parameters.Entries.Select(e => e.Name).Except(loaded, StringComparer.Ordinal).ToList();
        foreach (var name in missing) model.InitializeParameter(name, rng);
        return new CheckpointLoadReport(loaded, missing, unexpected);
    }

    /// <summary>Maps a checkpoint name to the model's: GPT2Model names gain <c>transformer.</c>; others are kept.</summary>
    static string? ToModelName(string name) =>
        name.StartsWith(GptRewardModel.BackbonePrefix, StringComparison.Ordinal) || name == GptRewardModel.ScoreWeightName ? name
        : name.StartsWith("wte.", StringComparison.Ordinal) || name.StartsWith("wpe.", StringComparison.Ordinal) || name.StartsWith("h.", StringComparison.Ordinal) || name.StartsWith("ln_f.", StringComparison.Ordinal)
            ? GptRewardModel.BackbonePrefix + name : null;
}
