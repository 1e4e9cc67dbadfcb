using System.Security.Cryptography;
using System.Text.Json.Serialization;
using System.Text.Json;
using RewardKit.IO;

namespace RewardKit.Inference.Registry;

/// <summary>
/// <c>manifest.json</c> of a registry version: the sha256 (hex) of every file of the model folder, by relative path
/// with '/' separators.
/// </summary>
public sealed class RegistryManifest
{
    /// <summary>The file name inside a version folder.</summary>
    public const string FileName = "manifest.json";

    /// <summary>Model name (the registry folder above the version).</summary>
    [JsonPropertyName("name")] public string Name { get; set; } = "";

    /// <summary>Registry version (the version folder's name).</summary>
    [JsonPropertyName("version")] public string Version { get; set; } = "";

    /// <summary>The model's content version from <c>rewardkit.json</c> (sha256 of the weights), when present.</summary>
    [JsonPropertyName("model_version")] public string ModelVersion { get; set; } = "";

    /// <summary>When the version was pushed (UTC).</summary>
    [JsonPropertyName("created_utc")] public DateTimeOffset CreatedUtc { get; set; }

    /// <summary>sha256 (lower-case hex) per relative file path.</summary>
    [JsonPropertyName("files")] public SortedDictionary<string, string> Files { get; set; } = new(StringComparer.Ordinal);

    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>sha256 (lower-case hex) of every file under <paramref name="directory"/> except <see cref="FileName"/>.</summary>
    public static SortedDictionary<string, string> HashFiles(string directory, CancellationToken cancellationToken = default)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(directory, path).Replace(Path.DirectorySeparatorChar, '/');
            if (relative == FileName) continue;
            files[relative] = HashFile(path);
        }
        return files;
    }

    /// <summary>sha256 (lower-case hex) of one file.</summary>
    public static string HashFile(string path) => FileHash.Sha256(path);

    /// <summary>Reads the manifest of a version folder.</summary>
    public static RegistryManifest Load(string versionDirectory)
    {
        var path = Path.Combine(versionDirectory, FileName);
        if (!File.Exists(path))
            throw new InvalidDataException($"{path}: the version has no {FileName}; it was not pushed with `rewardkit registry push` (push it again).");
        try
        {
            return JsonSerializer.Deserialize<RegistryManifest>(File.ReadAllText(path), Json)
                   ?? throw new InvalidDataException($"{path}: empty {FileName}.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }

    /// <summary>Writes the manifest into a version folder.</summary>
    public void Save(string versionDirectory) =>
        AtomicFile.WriteAllText(Path.Combine(versionDirectory, FileName), JsonSerializer.Serialize(this, Json));
}

/// <summary>
/// <c>promoted.json</c> of a model name: the version served now and the versions promoted before it (most recent
/// last), so that rollback returns to the previous one.
/// </summary>
public sealed class PromotionPointer
{
    /// <summary>The file name inside a model name's folder.</summary>
    public const string FileName = "promoted.json";

    /// <summary>The promoted version.</summary>
    [JsonPropertyName("version")] public string Version { get; set; } = "";

    /// <summary>Versions promoted before, oldest first.</summary>
    [JsonPropertyName("history")] public List<string> History { get; set; } = [];

    /// <summary>When the pointer was written (UTC).</summary>
    [JsonPropertyName("updated_utc")] public DateTimeOffset UpdatedUtc { get; set; }
}
