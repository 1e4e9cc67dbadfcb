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
        return ModelFolderFiles.Write(directory, model.Config.ToJson(), model.Parameters, metadata, tokenizerFiles, writeExtra, meta =>
            meta.Extra!["pooling"] = JsonSerializer.SerializeToElement(model.Pooling == RewardPooling.LastToken ? "last_token" : "mean_response"));
    }

    /// <summary>
    /// Loads a folder written by <see cref="Save"/> (every parameter must be present). A quantised folder
    /// (<see cref="QuantizedModelFolder"/>) comes back with its int8 layers plugged in as <see cref="GptRewardModel.Conv1DKernel"/>.
    /// </summary>
    public static (GptRewardModel Model, RewardModelMetadata Metadata) Load(string directory)
    {
        if (GptConfig.ReadArchitecture(directory) == GptConfig.LanguageModel)
            throw new InvalidDataException($"{directory}: this folder holds a policy ({GptConfig.LanguageModel}), not a reward model; pass a folder made by `rewardkit train` (a policy generates text: `rewardkit generate --policy {directory}`).");
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
        var (loaded, unexpected) = ModelFolderFiles.CopyWeights(model.Parameters, path, SafetensorsFile.Read(path), ToModelName);
        var missing = model.Parameters.Entries.Select(e => e.Name).Except(loaded, StringComparer.Ordinal).ToList();
        foreach (var name in missing) model.InitializeParameter(name, rng);
        return new CheckpointLoadReport(loaded, missing, unexpected);
    }

    /// <summary>Maps a checkpoint name to the model's: GPT2Model names gain <c>transformer.</c>; the score is kept; others are null.</summary>
    static string? ToModelName(string name) => name == GptRewardModel.ScoreWeightName ? name : GptTransformer.BodyName(name);
}
