using RewardKit.IO;
using RewardKit.Models.MultiObjective;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;
using RewardKit.Text;

namespace RewardKit.Inference;

/// <summary>Opens a RewardKit GPT-2 model folder as an <see cref="IRewardModel"/>: weights, tokenizer and prompt template together.</summary>
public static class GptModelLoader
{
    /// <summary>
    /// Loads <paramref name="modelDirectory"/> (config.json, model.safetensors, rewardkit.json and the tokenizer files) and wires the
    /// encoder the model was trained with: its template, maximum length and truncation that keeps the response. A LoRA adapter
    /// folder (<see cref="Models.Lora.LoraAdapterFolder"/>) is opened over its base and merged into it at load; a multi-objective folder
    /// (<see cref="Models.MultiObjective.MultiObjectiveFolder"/>) comes back as an <see cref="IObjectiveRewardModel"/>.
    /// </summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <param name="pool">Worker threads of the forward pass (null: the calling thread).</param>
    /// <param name="verifyVersion">Check the weights against rewardkit.json's <c>version</c> (see <see cref="RewardModelFolder.Load"/>); default true.</param>
    public static IRewardModel Load(string modelDirectory, WorkerPool? pool = null, bool verifyVersion = true)
    {
        if (!Directory.Exists(modelDirectory))
            throw new DirectoryNotFoundException($"{modelDirectory}: model folder not found; pass a folder made by `rewardkit train`.");
        if (Is(modelDirectory, ModelArchitecture.Separate)) return LoadSeparate(modelDirectory, pool, verifyVersion);
        RewardObjectives? objectives = null;
        GptRewardModel model;
        RewardModelMetadata metadata;
        if (Models.Lora.LoraAdapterFolder.IsAdapter(modelDirectory)) (model, metadata) = Models.Lora.LoraAdapterFolder.LoadMerged(modelDirectory, verifyVersion: verifyVersion);
        else if (IsMultiObjective(modelDirectory)) (model, metadata, objectives) = Models.MultiObjective.MultiObjectiveFolder.Load(modelDirectory, verifyVersion);
        else (model, metadata) = RewardModelFolder.Load(modelDirectory, verifyVersion);
        if (model.Pooling != RewardPooling.LastToken)
            throw new InvalidDataException($"{modelDirectory}: this model reads its reward as the mean over the response tokens (pooling: mean_response), "
                + "which scoring, evaluation and serving do not support (they pass token ids without the response start); "
                + "use the validation metrics of its training run, or train it again with the default last-token pooling.");
        var scorer = new GptRewardScorer(model, metadata, EncoderOf(modelDirectory, metadata, model.Config), pool);
        return objectives is null ? scorer : new MultiObjectiveScorer(scorer, objectives);
    }

    /// <summary>A separate-encoder folder (<see cref="Models.Separate.SeparateEncoderFolder"/>) as a <see cref="SeparateEncoderScorer"/>.</summary>
    static SeparateEncoderScorer LoadSeparate(string modelDirectory, WorkerPool? pool, bool verifyVersion)
    {
        var (model, metadata) = Models.Separate.SeparateEncoderFolder.Load(modelDirectory, verifyVersion);
        return new SeparateEncoderScorer(model, metadata, EncoderOf(modelDirectory, metadata, model.Config), pool);
    }

    /// <summary>The folder's tokenizer with the template, maximum length and truncation the model was trained with.</summary>
    static SequenceEncoder EncoderOf(string modelDirectory, RewardModelMetadata metadata, GptConfig config)
    {
        ByteLevelBpeTokenizer tokenizer;
        try { tokenizer = ByteLevelBpeTokenizer.FromDirectory(modelDirectory); }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{modelDirectory}: the model folder has no readable tokenizer (tokenizer.json or vocab.json + merges.txt): {e.Message}", e);
        }
        var template = PromptTemplate.FromName(string.IsNullOrEmpty(metadata.Template) ? "plain" : metadata.Template);
        return new SequenceEncoder(tokenizer, new SequenceOptions
        {
            MaxLength = Math.Min(metadata.MaxLength, config.Positions),
            OnOverflow = OverflowPolicy.Truncate,
            AppendEndOfText = metadata.AppendEndOfText,
        }, template);
    }

    /// <summary>True when the folder's rewardkit.json records <paramref name="architecture"/> (a missing or broken file is reported by the load).</summary>
    static bool Is(string directory, string architecture)
    {
        try { return ModelArchitecture.Of(RewardModelMetadata.Load(directory)) == architecture; }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>True when the folder's rewardkit.json says it holds a multi-objective model (a missing or broken file is reported by the load).</summary>
    static bool IsMultiObjective(string directory)
    {
        try { return Models.MultiObjective.MultiObjectiveFolder.Is(RewardModelMetadata.Load(directory)); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { return false; }
    }
}
