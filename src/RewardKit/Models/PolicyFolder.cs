using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Tensors.Safetensors;

namespace RewardKit.Models;

/// <summary>
/// A policy folder Hugging Face opens as a <c>GPT2LMHeadModel</c>: <c>config.json</c> (architectures
/// ["GPT2LMHeadModel"], <c>tie_word_embeddings</c>), <c>model.safetensors</c> with Hugging Face's names and no
/// <c>lm_head.weight</c> (the head is the token table, as <c>save_pretrained</c> writes tied weights),
/// <c>rewardkit.json</c> (<see cref="RewardModelMetadata"/>: template, max length, EOS handling, Version = sha256 of the
/// weights) and the tokenizer files.
/// </summary>
public static class PolicyFolder
{
    /// <summary>
    /// Writes the folder atomically (a temporary sibling folder renamed into place). <paramref name="writeExtra"/> may write
    /// more files (e.g. the tokenizer, <c>tokenizer.Save</c>) into the temporary folder. Returns the metadata written.
    /// </summary>
    public static RewardModelMetadata Save(GptLanguageModel model, string directory, RewardModelMetadata? metadata = null,
        IEnumerable<string>? tokenizerFiles = null, Action<string>? writeExtra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ModelFolderFiles.Write(directory, model.Config.ToJson(GptConfig.LanguageModel), model.Parameters, metadata, tokenizerFiles, writeExtra);
    }

    /// <summary>
    /// Loads a policy: a folder written by <see cref="Save"/>, or a Hugging Face <c>GPT2LMHeadModel</c> / <c>GPT2Model</c>
    /// folder (without rewardkit.json the metadata takes its defaults). Every body tensor must be present; an
    /// <c>lm_head.weight</c>, when a checkpoint has one, must equal the token table. A reward-model folder is refused with
    /// the way to start a policy from it (<see cref="InitializeFrom"/>).
    /// </summary>
    public static (GptLanguageModel Model, RewardModelMetadata Metadata) Load(string directory)
    {
        RequireFolder(directory);
        if (GptConfig.ReadArchitecture(directory) == GptConfig.SequenceClassification)
            throw new InvalidDataException($"{directory}: this folder holds a reward model ({GptConfig.SequenceClassification}), not a policy; "
                + $"start a policy from its backbone with `rewardkit sft --init {directory}` (in code: PolicyFolder.InitializeFrom), or pass a policy folder.");
        var (model, report) = Read(directory);
        if (report.Missing.Count > 0)
            throw new InvalidDataException($"{Path.Combine(directory, RewardModelFolder.WeightsFileName)}: missing tensors {string.Join(", ", report.Missing)}; the folder is incomplete (save it again).");
        var metadata = File.Exists(Path.Combine(directory, RewardModelMetadata.FileName))
            ? RewardModelMetadata.Load(directory)
            : new RewardModelMetadata { Name = Path.GetFileName(Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar)) };
        return (model, metadata);
    }

    /// <summary>
    /// Starts a policy from any GPT-2 folder: a policy, a Hugging Face GPT-2 checkpoint, or a reward model, whose
    /// backbone (e.g. after its SFT warm start) becomes the policy's body with the head tied to its token table. The
    /// report lists the tensors copied, those the checkpoint lacks (then an error) and those left unused (<c>score.weight</c>).
    /// </summary>
    public static (GptLanguageModel Model, CheckpointLoadReport Report) InitializeFrom(string directory)
    {
        RequireFolder(directory);
        var (model, report) = Read(directory);
        if (report.Missing.Count > 0)
            throw new InvalidDataException($"{Path.Combine(directory, RewardModelFolder.WeightsFileName)}: missing tensors {string.Join(", ", report.Missing)}; a policy needs the whole GPT-2 body (wte, wpe, h.*, ln_f).");
        return (model, report);
    }

    static void RequireFolder(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: policy folder not found; pass a folder made by `rewardkit sft` or a Hugging Face GPT-2 folder.");
    }

    /// <summary>The model of config.json with the checkpoint's body tensors copied in; checks a present lm_head is the tied table.</summary>
    static (GptLanguageModel Model, CheckpointLoadReport Report) Read(string directory)
    {
        var model = new GptLanguageModel(GptConfig.Load(directory));
        var path = Path.Combine(directory, RewardModelFolder.WeightsFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no weights file; is '{directory}' a complete model folder?", path);
        var tensors = SafetensorsFile.ReadAllFloats(path);
        var (loaded, unexpected) = ModelFolderFiles.CopyWeights(model.Parameters, path, tensors, GptTransformer.BodyName);
        if (tensors.TryGetValue("lm_head.weight", out var head) && loaded.Contains(GptTransformer.Prefix + "wte.weight")
            && !head.Values.AsSpan().SequenceEqual(model.TokenEmbedding.Data))
            throw new InvalidDataException($"{path}: lm_head.weight differs from transformer.wte.weight; RewardKit's policy ties the output head to the token table (tie_word_embeddings), so an untied head cannot be loaded.");
        var missing = model.Parameters.Entries.Select(e => e.Name).Except(loaded, StringComparer.Ordinal).ToList();
        return (model, new CheckpointLoadReport(loaded, missing, unexpected));
    }
}
