using System.Text.Json;
using System.Text.Json.Serialization;

namespace RewardKit.IO;

/// <summary>
/// The contents of a model folder's <c>rewardkit.json</c>: everything Hugging Face's <c>config.json</c> does not hold.
/// Unknown keys are kept in <see cref="Extra"/> so that a tool that does not know a field never drops it.
/// </summary>
public sealed class RewardModelMetadata
{
    /// <summary>The file name inside a model folder.</summary>
    public const string FileName = "rewardkit.json";

    /// <summary>A human-readable model name (default: the folder name).</summary>
    [JsonPropertyName("name")] public string Name { get; set; } = "";

    /// <summary>Content version: the sha256 (hex) of <c>model.safetensors</c>; changes whenever the weights do.</summary>
    [JsonPropertyName("version")] public string Version { get; set; } = "";

    /// <summary>Prompt template name used to turn (prompt, response) into text (see RewardKit.Text templates).</summary>
    [JsonPropertyName("template")] public string Template { get; set; } = "plain";

    /// <summary>True when an end-of-text token is appended after the response (training and scoring must agree). Default false.</summary>
    [JsonPropertyName("append_eos")] public bool AppendEndOfText { get; set; }

    /// <summary>Maximum sequence length in tokens.</summary>
    [JsonPropertyName("max_length")] public int MaxLength { get; set; } = 512;

    /// <summary>Mean of the raw rewards on the training data (for z-score normalisation).</summary>
    [JsonPropertyName("reward_mean")] public double RewardMean { get; set; }

    /// <summary>Standard deviation of the raw rewards on the training data (1 when unknown).</summary>
    [JsonPropertyName("reward_std")] public double RewardStd { get; set; } = 1;

    /// <summary>
    /// Calibration temperature T from temperature scaling: P(a ≻ b) = σ((r_a − r_b) / T). Null when not calibrated.
    /// </summary>
    [JsonPropertyName("temperature")] public double? Temperature { get; set; }

    /// <summary>
    /// The training distribution of raw rewards, as equal-width histogram bin edges (length bins + 1) and counts,
    /// used by drift monitoring. Null when unknown.
    /// </summary>
    [JsonPropertyName("reward_histogram")] public RewardHistogram? RewardHistogram { get; set; }

    /// <summary>Training options, data hashes, final metrics and anything else; kept verbatim.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>Reads <c>rewardkit.json</c> from a model folder.</summary>
    public static RewardModelMetadata Load(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no {FileName} in the model folder; is '{modelDirectory}' a RewardKit model folder?", path);
        try
        {
            return JsonSerializer.Deserialize<RewardModelMetadata>(File.ReadAllText(path), Options)
                   ?? throw new InvalidDataException($"{path}: empty {FileName}.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }

    /// <summary>Writes <c>rewardkit.json</c> atomically (temp file, flush, rename) into a model folder.</summary>
    public void Save(string modelDirectory)
    {
        Directory.CreateDirectory(modelDirectory);
        var path = Path.Combine(modelDirectory, FileName);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this, Options);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
