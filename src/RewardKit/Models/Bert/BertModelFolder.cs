using System.Security.Cryptography;
using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Tensors.Safetensors;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Models.Bert;

/// <summary>
/// A BERT reward model folder that Hugging Face opens as it is (<c>BertForSequenceClassification.from_pretrained(DIR)</c>,
/// one label): <c>config.json</c>, <c>model.safetensors</c> (<c>bert.*</c> and <c>classifier.*</c> names, Linear layout
/// [out, in]), the WordPiece tokenizer files and <c>rewardkit.json</c> (<see cref="RewardModelMetadata"/> with
/// <c>architecture: "bert-cross-encoder"</c> and <c>pooling: "cls" | "mean"</c>; with mean pooling Hugging Face's class
/// would read the pooler instead, so only RewardKit scores such a folder as trained).
/// </summary>
public static class BertModelFolder
{
    /// <summary>The <c>architecture</c> value in <c>rewardkit.json</c>.</summary>
    public const string Architecture = "bert-cross-encoder";

    /// <summary>True when <paramref name="directory"/>'s config.json describes a BERT-family model.</summary>
    public static bool IsBert(string directory)
    {
        var file = Path.Combine(directory, BertConfig.FileName);
        if (!File.Exists(file)) return false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            return doc.RootElement.TryGetProperty("model_type", out var type) && type.GetString() == "bert";
        }
        catch (JsonException) { return false; }
    }

    /// <summary>Writes the folder atomically; returns the metadata written (Version = sha256 of the weights).</summary>
    public static RewardModelMetadata Save(BertRewardModel model, WordPieceTokenizer tokenizer, string directory, RewardModelMetadata? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var full = Path.GetFullPath(directory);
        var temp = full.TrimEnd(Path.DirectorySeparatorChar) + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            File.WriteAllText(Path.Combine(temp, BertConfig.FileName), model.Config.ToJson());
            var weights = Path.Combine(temp, RewardModelFolder.WeightsFileName);
            SafetensorsWriter.Write(weights, model.Parameters.Entries.Select(e => (e.Name, e.Tensor.Shape, e.Tensor.ToArray())));
            tokenizer.Save(temp);
            var meta = metadata ?? new RewardModelMetadata { Name = Path.GetFileName(full) };
            using (var stream = File.OpenRead(weights)) meta.Version = Convert.ToHexStringLower(SHA256.HashData(stream));
            meta.Template = "cross-encoder";
            meta.AppendEndOfText = false;
            meta.Extra ??= [];
            meta.Extra["architecture"] = JsonSerializer.SerializeToElement(Architecture);
            meta.Extra["pooling"] = JsonSerializer.SerializeToElement(model.Pooling == BertPooling.Mean ? "mean" : "cls");
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

    /// <summary>Loads a folder written by <see cref="Save"/> (every parameter must be present).</summary>
    public static (BertRewardModel Model, WordPieceTokenizer Tokenizer, RewardModelMetadata Metadata) Load(string directory)
    {
        var config = BertConfig.Load(directory);
        var metadata = RewardModelMetadata.Load(directory);
        var pooling = metadata.Extra is { } extra && extra.TryGetValue("pooling", out var p) && p.GetString() == "mean" ? BertPooling.Mean : BertPooling.Cls;
        var model = new BertRewardModel(config, pooling);
        var report = LoadWeights(model, Path.Combine(directory, RewardModelFolder.WeightsFileName), new Rng(0));
        if (report.Missing.Count > 0)
            throw new InvalidDataException($"{Path.Combine(directory, RewardModelFolder.WeightsFileName)}: missing tensors {string.Join(", ", report.Missing)}; the folder is incomplete (save it again).");
        return (model, WordPieceTokenizer.FromFile(directory), metadata);
    }

    /// <summary>
    /// A reward model started from a Hugging Face BERT folder (<c>BertModel</c> names, or <c>bert.</c>-prefixed ones of
    /// <c>BertForSequenceClassification</c>): sizes from its config.json, matching tensors copied, the rest (the classifier,
    /// and the pooler when the checkpoint has none) initialised from <paramref name="seed"/>.
    /// </summary>
    public static (BertRewardModel Model, CheckpointLoadReport Report) InitializeFrom(string backboneDirectory, ulong seed, BertPooling pooling,
        Func<BertConfig, BertConfig>? configure = null)
    {
        var config = BertConfig.Load(backboneDirectory);
        if (configure is not null) config = configure(config);
        var model = new BertRewardModel(config, pooling);
        var rng = new Rng(seed);
        model.Initialize(rng);
        return (model, LoadWeights(model, Path.Combine(backboneDirectory, RewardModelFolder.WeightsFileName), rng));
    }

    /// <summary>Copies matching tensors of a safetensors file into <paramref name="model"/>; throws on a shape mismatch naming the tensor.</summary>
    public static CheckpointLoadReport LoadWeights(BertRewardModel model, string path, Rng rng)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no weights file.", path);
        var loaded = new List<string>();
        var unexpected = new List<string>();
        foreach (var (name, (shape, values)) in SafetensorsFile.ReadAllFloats(path).OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var target = name.StartsWith(BertRewardModel.BackbonePrefix, StringComparison.Ordinal) || name.StartsWith("classifier.", StringComparison.Ordinal)
                ? name : BertRewardModel.BackbonePrefix + name;
            var parameter = model.Parameters.TryGet(target);
            if (parameter is null) { unexpected.Add(name); continue; }
            if (!Shapes.Equal(shape, parameter.Shape))
                throw new InvalidDataException($"{path}: tensor '{name}' has shape {Shapes.Format(shape)} but the model's '{target}' is {Shapes.Format(parameter.Shape)}; the checkpoint does not match config.json.");
            values.CopyTo(parameter.Data);
            loaded.Add(target);
        }
        var missing = model.Parameters.Entries.Select(e => e.Name).Except(loaded, StringComparer.Ordinal).ToList();
        foreach (var name in missing) model.InitializeParameter(name, rng);
        return new CheckpointLoadReport(loaded, missing, unexpected);
    }
}
