using RewardKit.IO;
using RewardKit.Tensors;

namespace RewardKit.Models.Separate;

/// <summary>
/// A separate-encoder reward model folder: the GPT-2 folder layout (config.json of the backbone, model.safetensors with
/// <c>transformer.*</c> and <c>fusion.*</c>, the tokenizer) with rewardkit.json <c>architecture</c> "separate".
/// </summary>
public static class SeparateEncoderFolder
{
    /// <summary>Writes the folder atomically; returns the metadata written (version = sha256 of the weights).</summary>
    public static RewardModelMetadata Save(SeparateEncoderRewardModel model, string directory, RewardModelMetadata? metadata = null, Action<string>? writeExtra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ModelFolderFiles.Write(directory, model.Config.ToJson(), model.Parameters, metadata, tokenizerFiles: null, writeExtra,
            meta => ModelArchitecture.Set(meta, ModelArchitecture.Separate));
    }

    /// <summary>
    /// Loads a folder written by <see cref="Save"/>: rewardkit.json must say "separate", every tensor must be present with
    /// its shape and finite values, and (unless <paramref name="verifyVersion"/> is false) the weights' sha256 must be the
    /// recorded version. Errors name the file and the fix.
    /// </summary>
    public static (SeparateEncoderRewardModel Model, RewardModelMetadata Metadata) Load(string directory, bool verifyVersion = true)
    {
        var metaPath = Path.Combine(directory, RewardModelMetadata.FileName);
        var metadata = RewardModelFolder.ReadFile(metaPath, () => RewardModelMetadata.Load(directory));
        ModelArchitecture.Require(metadata, directory, ModelArchitecture.Separate);
        var config = RewardModelFolder.ReadFile(Path.Combine(directory, GptConfig.FileName), () => GptConfig.Load(directory));
        var weights = Path.Combine(directory, RewardModelFolder.WeightsFileName);
        if (verifyVersion) RewardModelFolder.VerifyVersion(weights, metadata, metaPath);
        var model = new SeparateEncoderRewardModel(config);
        using var file = RewardModelFolder.OpenWeights(weights);
        var names = file.Names.ToHashSet(StringComparer.Ordinal);
        foreach (var (name, tensor) in model.Parameters.Entries.Select(e => (e.Name, e.Tensor)))
        {
            if (!names.Contains(name))
                throw new InvalidDataException($"{weights}: missing tensor '{name}'; the folder is incomplete (save it again).");
            if (!Shapes.Equal(file[name].Shape, tensor.Shape))
                throw new InvalidDataException($"{weights}: tensor '{name}' has shape {Shapes.Format(file[name].Shape)} but config.json makes it {Shapes.Format(tensor.Shape)}; the files do not belong together.");
            var values = RewardModelFolder.ReadFile(weights, () => file.ReadFloats(name));
            RewardModelFolder.RequireFinite(values, name, weights);
            values.CopyTo(tensor.Data);
        }
        return (model, metadata);
    }
}
