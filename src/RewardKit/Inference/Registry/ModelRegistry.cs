using System.Text.Json;
using System.Text.RegularExpressions;
using RewardKit.IO;

namespace RewardKit.Inference.Registry;

/// <summary>One version of a model in the registry.</summary>
/// <param name="Name">Model name.</param>
/// <param name="Version">Registry version.</param>
/// <param name="Directory">The version folder.</param>
/// <param name="Promoted">True when it is the promoted version of its name.</param>
/// <param name="CreatedUtc">When it was pushed.</param>
public sealed record RegistryEntry(string Name, string Version, string Directory, bool Promoted, DateTimeOffset CreatedUtc);

/// <summary>
/// A folder of model versions: <c>ROOT/NAME/VERSION/</c> holds a model folder plus a <c>manifest.json</c> with the
/// sha256 of each file, and <c>ROOT/NAME/promoted.json</c> points at the version to serve. Pushes copy into a temp
/// folder and rename it into place; pointer writes are atomic renames; a version whose files do not match its
/// manifest is refused.
/// </summary>
public sealed partial class ModelRegistry
{
    /// <summary>Opens (or, when pushing, creates) the registry at <paramref name="root"/>.</summary>
    public ModelRegistry(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
    }

    /// <summary>The registry folder.</summary>
    public string Root { get; }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex SafeName();

    /// <summary>Throws unless <paramref name="value"/> is a safe folder name (letters, digits, '.', '_', '-').</summary>
    public static void ValidateName(string value, string what)
    {
        if (value is null || !SafeName().IsMatch(value) || value is "." or "..")
            throw new ArgumentException($"{what} '{value}' is not allowed; use 1-128 letters, digits, '.', '_' or '-' starting with a letter or digit.", what);
    }

    /// <summary>
    /// Copies the model folder <paramref name="modelDirectory"/> into the registry as NAME/VERSION (NAME defaults to
    /// the metadata name or the folder name; VERSION to v1, v2, ...). The copy is verified before it is renamed into place.
    /// </summary>
    public RegistryEntry Push(string modelDirectory, string? name = null, string? version = null, CancellationToken cancellationToken = default)
    {
        var source = Path.GetFullPath(modelDirectory);
        if (!Directory.Exists(source)) throw new DirectoryNotFoundException($"{modelDirectory}: model folder not found.");
        var metadata = RewardModelMetadata.Load(source);
        name ??= string.IsNullOrWhiteSpace(metadata.Name) ? Path.GetFileName(source.TrimEnd(Path.DirectorySeparatorChar)) : metadata.Name;
        ValidateName(name, "model name");
        var nameDirectory = Path.Combine(Root, name);
        Directory.CreateDirectory(nameDirectory);
        version ??= NextVersion(name);
        ValidateName(version, "version");
        var target = Path.Combine(nameDirectory, version);
        if (Directory.Exists(target)) throw new ArgumentException($"{target}: version '{version}' of '{name}' already exists; pick another --version.", nameof(version));

        var temp = Path.Combine(nameDirectory, $".push-{Guid.NewGuid():N}");
        try
        {
            CopyDirectory(source, temp, cancellationToken);
            var manifest = new RegistryManifest
            {
                Name = name, Version = version, ModelVersion = metadata.Version, CreatedUtc = DateTimeOffset.UtcNow,
                Files = RegistryManifest.HashFiles(temp, cancellationToken),
            };
            var sourceHashes = RegistryManifest.HashFiles(source, cancellationToken);
            if (!sourceHashes.SequenceEqual(manifest.Files))
                throw new IOException($"{modelDirectory}: the model folder changed while it was being pushed; push it again.");
            manifest.Save(temp);
            Directory.Move(temp, target);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        return Entry(name, version, PointerOf(name)?.Version);
    }

    /// <summary>Every version of every model name (or of <paramref name="name"/>), in push order.</summary>
    public IReadOnlyList<RegistryEntry> List(string? name = null)
    {
        if (!Directory.Exists(Root)) return [];
        var names = name is null ? Directory.GetDirectories(Root).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal).ToList()
                                 : [name];
        var entries = new List<RegistryEntry>();
        foreach (var n in names)
        {
            var dir = Path.Combine(Root, n!);
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: no model named '{n}' in the registry {Root}.");
            var promoted = PointerOf(n!)?.Version;
            entries.AddRange(Directory.GetDirectories(dir).Select(Path.GetFileName).Where(v => !v!.StartsWith('.'))
                .Where(v => File.Exists(Path.Combine(dir, v!, RegistryManifest.FileName)))
                .Select(v => Entry(n!, v!, promoted)).OrderBy(e => e.CreatedUtc).ThenBy(e => e.Version, StringComparer.Ordinal));
        }
        return entries;
    }

    /// <summary>The model names in the registry.</summary>
    public IReadOnlyList<string> Names() => List().Select(e => e.Name).Distinct().ToList();

    /// <summary>Makes <paramref name="version"/> the promoted version of <paramref name="name"/> after verifying its checksums.</summary>
    public RegistryEntry Promote(string name, string version, CancellationToken cancellationToken = default)
    {
        ValidateName(name, "model name");
        ValidateName(version, "version");
        Verify(name, version, cancellationToken);
        var pointer = PointerOf(name) ?? new PromotionPointer();
        if (pointer.Version == version) return Entry(name, version, version);
        if (pointer.Version.Length > 0) pointer.History.Add(pointer.Version);
        pointer.Version = version;
        WritePointer(name, pointer);
        return Entry(name, version, version);
    }

    /// <summary>Promotes the version promoted before the current one again (checksums verified).</summary>
    public RegistryEntry Rollback(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name, "model name");
        var pointer = PointerOf(name) ?? throw new ArgumentException($"'{name}' has no promoted version; promote one with `rewardkit registry promote {name} VERSION`.");
        if (pointer.History.Count == 0)
            throw new ArgumentException($"'{name}' has no version promoted before {pointer.Version}; there is nothing to roll back to.");
        var previous = pointer.History[^1];
        Verify(name, previous, cancellationToken);
        pointer.History.RemoveAt(pointer.History.Count - 1);
        pointer.Version = previous;
        WritePointer(name, pointer);
        return Entry(name, previous, previous);
    }

    /// <summary>The promotion pointer of <paramref name="name"/>, or null when nothing was promoted.</summary>
    public PromotionPointer? PointerOf(string name)
    {
        var path = PointerPath(name);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<PromotionPointer>(File.ReadAllText(path), RegistryManifest.Json)
                   ?? throw new InvalidDataException($"{path}: empty pointer file.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}; promote a version again to rewrite it.", e);
        }
    }

    /// <summary>The path of <c>promoted.json</c> for <paramref name="name"/>.</summary>
    public string PointerPath(string name) => Path.Combine(Root, name, PromotionPointer.FileName);

    /// <summary>The folder of the promoted version of <paramref name="name"/> after verifying its checksums.</summary>
    public RegistryEntry OpenPromoted(string name, CancellationToken cancellationToken = default)
    {
        var pointer = PointerOf(name) ?? throw new InvalidDataException($"'{name}' in {Root} has no promoted version; run `rewardkit registry promote {name} VERSION`.");
        Verify(name, pointer.Version, cancellationToken);
        return Entry(name, pointer.Version, pointer.Version);
    }

    /// <summary>
    /// Recomputes the sha256 of every file of a version and compares it with the manifest; throws
    /// <see cref="InvalidDataException"/> naming the first file that differs, is missing or is not in the manifest.
    /// </summary>
    public RegistryManifest Verify(string name, string version, CancellationToken cancellationToken = default)
    {
        var dir = Path.Combine(Root, name, version);
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: version '{version}' of '{name}' is not in the registry {Root}; see `rewardkit registry list`.");
        var manifest = RegistryManifest.Load(dir);
        var actual = RegistryManifest.HashFiles(dir, cancellationToken);
        foreach (var (file, expected) in manifest.Files)
        {
            if (!actual.TryGetValue(file, out var hash))
                throw new InvalidDataException($"{Path.Combine(dir, file)}: listed in {RegistryManifest.FileName} but missing; the version is damaged, push the model again.");
            if (!string.Equals(hash, expected, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{Path.Combine(dir, file)}: checksum mismatch (sha256 {hash}, manifest says {expected}); the version is damaged or was edited, refusing to load it; push the model again.");
        }
        foreach (var file in actual.Keys)
            if (!manifest.Files.ContainsKey(file))
                throw new InvalidDataException($"{Path.Combine(dir, file)}: not listed in {RegistryManifest.FileName}; files were added to a pushed version, refusing to load it; push the model again.");
        return manifest;
    }

    void WritePointer(string name, PromotionPointer pointer)
    {
        pointer.UpdatedUtc = DateTimeOffset.UtcNow;
        AtomicFile.WriteAllText(PointerPath(name), JsonSerializer.Serialize(pointer, RegistryManifest.Json));
    }

    RegistryEntry Entry(string name, string version, string? promoted)
    {
        var dir = Path.Combine(Root, name, version);
        var manifest = RegistryManifest.Load(dir);
        return new RegistryEntry(name, version, dir, version == promoted, manifest.CreatedUtc);
    }

    string NextVersion(string name)
    {
        var dir = Path.Combine(Root, name);
        var max = 0;
        if (Directory.Exists(dir))
            foreach (var v in Directory.GetDirectories(dir).Select(Path.GetFileName))
                if (v is { Length: > 1 } && v[0] == 'v' && int.TryParse(v.AsSpan(1), out var n)) max = Math.Max(max, n);
        return $"v{max + 1}";
    }

    static void CopyDirectory(string source, string target, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(target);
        foreach (var dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, dir)));
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Path.GetFileName(file) == RegistryManifest.FileName && Path.GetDirectoryName(file) == source) continue;
            File.Copy(file, Path.Combine(target, Path.GetRelativePath(source, file)));
        }
    }
}
