using System.Text.Json.Nodes;
using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Tensors;
using Engine = RewardKit.Tensors.Safetensors;

namespace RewardKit.Models.Lora;

/// <summary>
/// A LoRA adapter folder in PEFT's layout, which <c>PeftModel.from_pretrained(GPT2ForSequenceClassification, DIR)</c> opens:
/// <c>adapter_config.json</c> (peft_type LORA, task_type SEQ_CLS, r, lora_alpha, lora_dropout, target_modules,
/// fan_in_fan_out true, modules_to_save ["score"], base_model_name_or_path), <c>adapter_model.safetensors</c> (PEFT's saved
/// names: <c>base_model.model.transformer.h.{i}.attn.c_attn.lora_A.weight</c> (r, in), <c>….lora_B.weight</c> (out, r),
/// <c>base_model.model.score.weight</c>), plus RewardKit's <c>rewardkit.json</c> (version = sha256 of the adapter weights,
/// <c>architecture</c> concat, <c>adapter</c> lora, the base's sha256) and the tokenizer files.
/// </summary>
public static class LoraAdapterFolder
{
    /// <summary>PEFT's adapter configuration file.</summary>
    public const string ConfigFileName = ModelArchitecture.LoraAdapterConfigFileName;

    /// <summary>PEFT's adapter weights file.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>The rewardkit.json key holding the sha256 of the base's model.safetensors.</summary>
    public const string BaseSha256Key = "base_model_sha256";

    /// <summary>True when <paramref name="directory"/> holds an adapter (an <c>adapter_config.json</c>).</summary>
    public static bool IsAdapter(string directory) => ModelArchitecture.IsLoraAdapter(directory);

    /// <summary>
    /// Writes the adapter folder atomically (a temporary sibling folder renamed into place). <paramref name="baseDirectory"/>
    /// becomes <c>base_model_name_or_path</c> (as a full path) and its weights' sha256 is recorded; <paramref name="writeExtra"/>
    /// may add files (the tokenizer). Returns the metadata written.
    /// </summary>
    public static RewardModelMetadata Save(LoraRewardModel model, string directory, string baseDirectory, RewardModelMetadata? metadata = null,
        Action<string>? writeExtra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var full = Path.GetFullPath(directory);
        var baseFull = Path.GetFullPath(baseDirectory);
        var temp = full.TrimEnd(Path.DirectorySeparatorChar) + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            File.WriteAllText(Path.Combine(temp, ConfigFileName), ConfigJson(model.Settings, baseFull));
            var weights = Path.Combine(temp, WeightsFileName);
            Engine.SafetensorsWriter.Write(weights, model.Parameters.Entries.Select(e => (e.Name, e.Tensor)));
            writeExtra?.Invoke(temp);
            var meta = metadata ?? new RewardModelMetadata { Name = Path.GetFileName(full) };
            meta.Version = FileHash.Sha256(weights);
            ModelArchitecture.Set(meta, ModelArchitecture.Concat, ModelArchitecture.LoraAdapter);
            meta.Extra![BaseSha256Key] = JsonSerializer.SerializeToElement(FileHash.Sha256(Path.Combine(baseFull, RewardModelFolder.WeightsFileName)));
            meta.Extra["pooling"] = JsonSerializer.SerializeToElement(model.Base.Pooling == RewardPooling.LastToken ? "last_token" : "mean_response");
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

    /// <summary>PEFT's <c>adapter_config.json</c> for <paramref name="settings"/> over the base folder <paramref name="baseDirectory"/>.</summary>
    public static string ConfigJson(LoraSettings settings, string baseDirectory) => new JsonObject
    {
        ["base_model_name_or_path"] = baseDirectory,
        ["bias"] = "none",
        ["fan_in_fan_out"] = true,
        ["inference_mode"] = true,
        ["init_lora_weights"] = true,
        ["lora_alpha"] = settings.Alpha,
        ["lora_dropout"] = settings.Dropout,
        ["modules_to_save"] = new JsonArray("score"),
        ["peft_type"] = "LORA",
        ["r"] = settings.Rank,
        ["target_modules"] = new JsonArray([.. settings.Targets.Select(t => (JsonNode)t)]),
        ["task_type"] = "SEQ_CLS",
        ["use_rslora"] = false,
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>
    /// Reads <c>adapter_config.json</c>: the settings and <c>base_model_name_or_path</c>. Refused, naming the file and key:
    /// another peft_type or task_type, fan_in_fan_out false (GPT-2's Conv1D needs it), a head other than score, use_rslora,
    /// an unknown target.
    /// </summary>
    public static (LoraSettings Settings, string? BaseModel) ReadConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no {ConfigFileName}; is '{directory}' a LoRA adapter folder (OUT/model of `rewardkit train --lora-r ...`)?", path);
        JsonObject o;
        try { o = JsonNode.Parse(RewardModelFolder.ReadFile(path, () => File.ReadAllText(path))) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e); }
        string? Text(string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        void Require(bool ok, string key, string fix)
        {
            if (!ok) throw new InvalidDataException($"{path}: '{key}' is {o[key]?.ToJsonString() ?? "missing"}; {fix}");
        }
        Require(Text("peft_type") == "LORA", "peft_type", "only LoRA adapters (peft_type \"LORA\") are read.");
        Require(Text("task_type") is null or "SEQ_CLS", "task_type", "a reward model's adapter is a sequence-classification adapter (\"SEQ_CLS\").");
        Require(o["fan_in_fan_out"]?.GetValueKind() == JsonValueKind.True, "fan_in_fan_out", "GPT-2's Conv1D stores weights (in, out), so the adapter must say true.");
        Require(o["use_rslora"] is null || o["use_rslora"]!.GetValueKind() == JsonValueKind.False, "use_rslora", "rank-stabilised scaling is not supported; use α/r (false).");
        Require(o["modules_to_save"] is JsonArray saved && saved.Count == 1 && saved[0]?.GetValue<string>() == "score", "modules_to_save", "the adapter must carry the reward head: [\"score\"].");
        Require(o["r"] is JsonValue r && r.TryGetValue<int>(out _), "r", "give the rank as an integer.");
        string[] targets = o["target_modules"] switch
        {
            JsonArray a => [.. a.Select(t => t?.GetValue<string>() ?? "")],
            JsonValue v when v.TryGetValue<string>(out var one) => [one],
            _ => [],
        };
        try
        {
            var settings = new LoraSettings
            {
                Rank = o["r"]!.GetValue<int>(),
                Alpha = o["lora_alpha"] is JsonValue alpha ? (float)alpha.GetValue<double>() : 8,
                Dropout = o["lora_dropout"] is JsonValue dropout ? (float)dropout.GetValue<double>() : 0,
                Targets = targets,
            }.Validate();
            return (settings, Text("base_model_name_or_path"));
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Opens an adapter over its base: <paramref name="baseDirectory"/>, else the adapter's <c>base_model_name_or_path</c>
    /// (relative paths from the current folder, then from the adapter's). Every adapter tensor must be present with its shape
    /// and finite; with <paramref name="verifyVersion"/> the adapter weights must match rewardkit.json's version and the base's
    /// weights the sha256 recorded when the adapter was trained.
    /// </summary>
    public static (LoraRewardModel Model, RewardModelMetadata Metadata) Load(string directory, string? baseDirectory = null, bool verifyVersion = true)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: adapter folder not found.");
        var (settings, recordedBase) = ReadConfig(directory);
        var metaPath = Path.Combine(directory, RewardModelMetadata.FileName);
        var metadata = RewardModelFolder.ReadFile(metaPath, () => RewardModelMetadata.Load(directory));
        ModelArchitecture.Require(metadata, directory, ModelArchitecture.Concat, ModelArchitecture.LoraAdapter);
        var weights = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weights)) throw new FileNotFoundException($"{weights}: no adapter weights; the folder is incomplete (train or save it again).", weights);
        if (verifyVersion) RequireHash(weights, metadata.Version, metaPath, "version");
        var basePath = ResolveBase(directory, baseDirectory, recordedBase);
        if (verifyVersion && metadata.Extra?.TryGetValue(BaseSha256Key, out var baseSha) == true && baseSha.GetString() is { } expected)
            RequireHash(Path.Combine(basePath, RewardModelFolder.WeightsFileName), expected, metaPath, BaseSha256Key);
        var pooling = metadata.Extra?.TryGetValue("pooling", out var p) == true && p.ValueKind == JsonValueKind.String && p.GetString() == "mean_response"
            ? RewardPooling.MeanResponse : RewardPooling.LastToken;
        var (baseModel, report) = RewardModelFolder.InitializeFrom(basePath, seed: 0, pooling);
        var missing = report.Missing.Where(n => n != GptRewardModel.ScoreWeightName).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{basePath}: the base model lacks {string.Join(", ", missing)}; pass the folder the adapter was trained on (--base).");
        var model = new LoraRewardModel(baseModel, settings);
        LoadTensors(model, weights);
        return (model, metadata);
    }

    /// <summary>
    /// Opens an adapter over its base (see <see cref="Load"/>) and folds it into the base's weights: a plain model computing
    /// the same rewards, as fast as the base, with no second copy of the weights.
    /// </summary>
    public static (GptRewardModel Model, RewardModelMetadata Metadata) LoadMerged(string directory, string? baseDirectory = null, bool verifyVersion = true)
    {
        var (model, metadata) = Load(directory, baseDirectory, verifyVersion);
        return (model.MergeIntoBase(), metadata);
    }

    /// <summary>
    /// <c>rewardkit merge-lora</c>: writes the adapter folded into its base as a plain model folder (config.json,
    /// model.safetensors, rewardkit.json with architecture concat and no adapter, and the adapter folder's tokenizer files).
    /// Returns the metadata written.
    /// </summary>
    public static RewardModelMetadata MergeToFolder(string adapterDirectory, string outputDirectory, string? baseDirectory = null, bool verifyVersion = true)
    {
        var (merged, metadata) = LoadMerged(adapterDirectory, baseDirectory, verifyVersion);
        metadata.Extra ??= [];
        metadata.Extra["merged_from_adapter_version"] = JsonSerializer.SerializeToElement(metadata.Version);
        metadata.Extra.Remove(BaseSha256Key);
        ModelArchitecture.Set(metadata, ModelArchitecture.Concat);
        string[] adapterFiles = [ConfigFileName, WeightsFileName, RewardModelMetadata.FileName];
        var tokenizerFiles = Directory.GetFiles(adapterDirectory).Where(f => !adapterFiles.Contains(Path.GetFileName(f))).ToList();
        return RewardModelFolder.Save(merged, outputDirectory, metadata, tokenizerFiles);
    }

    /// <summary>Copies the adapter tensors into <paramref name="model"/>'s parameters: each one present, of its shape, finite, and nothing else.</summary>
    public static void LoadTensors(LoraRewardModel model, string weights)
    {
        using var file = RewardModelFolder.ReadFile(weights, () => Engine.SafetensorsFile.Open(weights));
        var expected = model.Parameters.Entries.ToDictionary(e => e.Name, e => e.Tensor, StringComparer.Ordinal);
        foreach (var name in file.Names)
        {
            if (!expected.Remove(name, out var parameter))
                throw new InvalidDataException($"{weights}: tensor '{name}' belongs to no adapted layer of this adapter_config.json (targets {string.Join(", ", model.Settings.Targets)}, r {model.Settings.Rank}); the files do not belong together.");
            if (!Shapes.Equal(file[name].Shape, parameter.Shape))
                throw new InvalidDataException($"{weights}: tensor '{name}' has shape {Shapes.Format(file[name].Shape)} but the base and adapter_config.json make it {Shapes.Format(parameter.Shape)}; is this the adapter's base?");
            var values = RewardModelFolder.ReadFile(weights, () => file.ReadFloats(name));
            RewardModelFolder.RequireFinite(values, name, weights);
            values.CopyTo(parameter.Data);
        }
        if (expected.Count > 0)
            throw new InvalidDataException($"{weights}: missing tensors {string.Join(", ", expected.Keys.Take(4))}{(expected.Count > 4 ? $" and {expected.Count - 4} more" : "")}; the adapter is incomplete (save it again).");
    }

    static string ResolveBase(string directory, string? baseDirectory, string? recordedBase)
    {
        var chosen = baseDirectory ?? recordedBase
            ?? throw new InvalidDataException($"{Path.Combine(directory, ConfigFileName)}: no base_model_name_or_path; pass the base folder with --base.");
        string[] candidates = Path.IsPathRooted(chosen) ? [chosen] : [Path.GetFullPath(chosen), Path.GetFullPath(Path.Combine(directory, chosen))];
        foreach (var candidate in candidates)
            if (File.Exists(Path.Combine(candidate, RewardModelFolder.WeightsFileName))) return candidate;
        if (candidates.FirstOrDefault(LoraAdapterFolder.IsAdapter) is { } nested)
            throw new InvalidDataException($"{nested}: the base is itself an adapter; an adapter's base must be a full model folder.");
        throw new DirectoryNotFoundException(baseDirectory is null
            ? $"{Path.Combine(directory, ConfigFileName)}: the base model '{chosen}' (base_model_name_or_path) has no {RewardModelFolder.WeightsFileName}; pass the base folder with --base."
            : $"{chosen}: the base model folder has no {RewardModelFolder.WeightsFileName}; pass the folder the adapter was trained on.");
    }

    static void RequireHash(string path, string expected, string metadataPath, string key)
    {
        var sha = RewardModelFolder.ReadFile(path, () => FileHash.Sha256(path));
        if (!string.Equals(sha, expected, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path}: its sha256 is {sha} but {metadataPath} records {key} {expected}; the file changed after the adapter was saved "
                + "(a different base, or edited weights). Use the original files, or load it anyway with --skip-version-check.");
    }
}
