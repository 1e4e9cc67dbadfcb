using System.Text.Json.Nodes;
using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Tensors;

namespace RewardKit.Models.MultiObjective;

/// <summary>
/// A multi-objective reward model folder: the GPT-2 folder layout with a K-row head (<c>score.weight</c> (K, C)), config.json
/// <c>num_labels</c> K with <c>id2label</c>/<c>label2id</c> naming the objectives (as GPT2ForSequenceClassification with K
/// labels), and rewardkit.json <c>architecture</c> "multi-objective", <c>objectives</c> and <c>objective_weights</c>.
/// </summary>
public static class MultiObjectiveFolder
{
    /// <summary>The rewardkit.json architecture of these folders.</summary>
    public const string Architecture = "multi-objective";

    /// <summary>True when <paramref name="metadata"/> says the folder is multi-objective.</summary>
    public static bool Is(RewardModelMetadata metadata) => ModelArchitecture.Of(metadata) == Architecture;

    /// <summary>Writes the folder atomically (see <see cref="RewardModelFolder.Save"/>); returns the metadata written.</summary>
    public static RewardModelMetadata Save(GptRewardModel model, RewardObjectives objectives, string directory, RewardModelMetadata? metadata = null,
        Action<string>? writeExtra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(objectives);
        if (model.Outputs != objectives.Count)
            throw new ArgumentException($"MultiObjectiveFolder: the head has {model.Outputs} outputs but {objectives.Count} objectives are named.", nameof(objectives));
        return ModelFolderFiles.Write(directory, ConfigJson(model.Config, objectives), model.Parameters, metadata, tokenizerFiles: null, writeExtra, meta =>
        {
            meta.Extra!["pooling"] = JsonSerializer.SerializeToElement(model.Pooling == RewardPooling.LastToken ? "last_token" : "mean_response");
            ModelArchitecture.Set(meta, Architecture);
            objectives.WriteTo(meta);
        });
    }

    /// <summary>GPT2ForSequenceClassification's config.json with K labels named after the objectives.</summary>
    public static string ConfigJson(GptConfig config, RewardObjectives objectives)
    {
        var o = (JsonObject)JsonNode.Parse(config.ToJson())!;
        o["num_labels"] = objectives.Count;
        o["id2label"] = new JsonObject(objectives.Names.Select((n, i) => KeyValuePair.Create(i.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)n)));
        o["label2id"] = new JsonObject(objectives.Names.Select((n, i) => KeyValuePair.Create(n, (JsonNode?)i)));
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// Loads a folder written by <see cref="Save"/>: every tensor present, the head's rows matching config.json's
    /// num_labels and rewardkit.json's objectives, and (unless <paramref name="verifyVersion"/> is false) the weights'
    /// sha256 equal to the recorded version. Errors name the file and the fix.
    /// </summary>
    public static (GptRewardModel Model, RewardModelMetadata Metadata, RewardObjectives Objectives) Load(string directory, bool verifyVersion = true)
    {
        var metaPath = Path.Combine(directory, RewardModelMetadata.FileName);
        var metadata = RewardModelFolder.ReadFile(metaPath, () => RewardModelMetadata.Load(directory));
        ModelArchitecture.Require(metadata, directory, Architecture);
        RewardObjectives objectives;
        try { objectives = RewardObjectives.FromMetadata(metadata) ?? throw new ArgumentException($"no '{RewardObjectives.NamesKey}' list"); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{metaPath}: {e.Message}; a multi-objective folder names its objectives (save it again with RewardKit).", e);
        }
        var configPath = Path.Combine(directory, GptConfig.FileName);
        var (config, labels) = ReadConfig(configPath);
        if (labels != objectives.Count)
            throw new InvalidDataException($"{configPath}: num_labels is {labels} but {metaPath} names {objectives.Count} objectives; the files do not belong together.");
        var weights = Path.Combine(directory, RewardModelFolder.WeightsFileName);
        if (verifyVersion)
        {
            var sha = RewardModelFolder.ReadFile(weights, () => FileHash.Sha256(weights));
            if (!string.Equals(sha, metadata.Version, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{weights}: its sha256 is {sha} but {metaPath} records version {metadata.Version}; the weights changed after the model was saved. "
                    + "Restore the folder or save it again, or load it anyway with --skip-version-check.");
        }
        var pooling = metadata.Extra!.TryGetValue("pooling", out var p) && p.ValueKind == JsonValueKind.String && p.GetString() == "mean_response"
            ? RewardPooling.MeanResponse : RewardPooling.LastToken;
        var model = new GptRewardModel(config, pooling, objectives.Count);
        var report = RewardModelFolder.LoadWeights(model, weights, new Rng(0));
        if (report.Missing.Count > 0)
            throw new InvalidDataException($"{weights}: missing tensors {string.Join(", ", report.Missing)}; the folder is incomplete (save it again).");
        return (model, metadata, objectives);
    }

    /// <summary>The GPT-2 config of a K-label config.json, and K.</summary>
    static (GptConfig Config, int Labels) ReadConfig(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no {GptConfig.FileName}; is '{Path.GetDirectoryName(path)}' a model folder?", path);
        JsonObject o;
        try { o = JsonNode.Parse(RewardModelFolder.ReadFile(path, () => File.ReadAllText(path))) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e); }
        int labels = o["num_labels"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : (o["id2label"] as JsonObject)?.Count ?? 1;
        o.Remove("num_labels");
        o.Remove("id2label");
        o.Remove("label2id");
        return (GptConfig.FromJson(o.ToJsonString(), path), labels);
    }
}
