using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RewardKit.IO;

namespace RewardKit.Models.Ensemble;

/// <summary>
/// An ensemble model folder: rewardkit.json with <c>architecture</c> "ensemble", <c>ensemble_members</c> (the member
/// subfolders, in order), <c>ensemble_method</c> (how the members differ: "bootstrap", different seeds and bootstrap
/// resamples of the training pairs) and <c>ensemble_seeds</c>; each member is a complete model folder of its own
/// (<c>member-0</c>, <c>member-1</c>, ...) that loads alone too. The folder's <c>version</c> is the sha256 of the members'
/// versions joined by newlines, so a changed member changes the ensemble's version.
/// </summary>
public static class EnsembleFolder
{
    /// <summary>The rewardkit.json architecture of these folders.</summary>
    public const string Architecture = "ensemble";

    /// <summary>The rewardkit.json key listing the member subfolders.</summary>
    public const string MembersKey = "ensemble_members";

    /// <summary>The rewardkit.json key saying how the members were made different.</summary>
    public const string MethodKey = "ensemble_method";

    /// <summary>The rewardkit.json key of the members' training seeds.</summary>
    public const string SeedsKey = "ensemble_seeds";

    /// <summary>Members that differ by seed and by a bootstrap resample of the training pairs.</summary>
    public const string Bootstrap = "bootstrap";

    /// <summary>The subfolder name of member <paramref name="index"/>.</summary>
    public static string MemberName(int index) => $"member-{index}";

    /// <summary>True when <paramref name="metadata"/> says the folder is an ensemble.</summary>
    public static bool Is(RewardModelMetadata metadata) => ModelArchitecture.Of(metadata) == Architecture;

    /// <summary>True when <paramref name="directory"/> holds a readable rewardkit.json naming the ensemble architecture.</summary>
    public static bool IsEnsemble(string directory)
    {
        if (!File.Exists(Path.Combine(directory, RewardModelMetadata.FileName))) return false;
        try { return Is(RewardModelMetadata.Load(directory)); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Writes the ensemble folder atomically: copies each of <paramref name="memberDirectories"/> (complete model folders)
    /// into <c>member-k</c> of a temporary sibling, writes <paramref name="metadata"/> with the ensemble fields and the
    /// version over the members', then replaces <paramref name="directory"/>. Returns the metadata written.
    /// </summary>
    public static RewardModelMetadata Save(IReadOnlyList<string> memberDirectories, IReadOnlyList<ulong> seeds, string directory, RewardModelMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(memberDirectories);
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(metadata);
        if (memberDirectories.Count < 2) throw new ArgumentException($"EnsembleFolder: an ensemble needs at least 2 members, got {memberDirectories.Count}.", nameof(memberDirectories));
        if (seeds.Count != memberDirectories.Count) throw new ArgumentException($"EnsembleFolder: {seeds.Count} seeds for {memberDirectories.Count} members.", nameof(seeds));
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            var names = new string[memberDirectories.Count];
            for (int k = 0; k < names.Length; k++)
            {
                names[k] = MemberName(k);
                CopyDirectory(memberDirectories[k], Path.Combine(temp, names[k]));
            }
            metadata.Version = VersionOf(names.Select(n => RewardModelMetadata.Load(Path.Combine(temp, n)).Version));
            ModelArchitecture.Set(metadata, Architecture);
            metadata.Extra![MembersKey] = JsonSerializer.SerializeToElement(names);
            metadata.Extra[MethodKey] = JsonSerializer.SerializeToElement(Bootstrap);
            metadata.Extra[SeedsKey] = JsonSerializer.SerializeToElement(seeds);
            metadata.Save(temp);
            AtomicFile.ReplaceDirectory(temp, full);
            return metadata;
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>The ensemble's version: the sha256 of its members' versions joined by newlines.</summary>
    public static string VersionOf(IEnumerable<string> memberVersions) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', memberVersions))));

    /// <summary>
    /// The member folders an ensemble's <paramref name="metadata"/> lists, as paths inside <paramref name="directory"/>; an
    /// ensemble without at least two members, a member name that leaves the folder or a missing member folder is an error
    /// naming rewardkit.json.
    /// </summary>
    public static IReadOnlyList<string> MemberDirectories(string directory, RewardModelMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var file = Path.Combine(directory, RewardModelMetadata.FileName);
        ModelArchitecture.Require(metadata, directory, Architecture);
        if (metadata.Extra is not { } extra || !extra.TryGetValue(MembersKey, out var list) || list.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{file}: an ensemble folder lists its members in '{MembersKey}' (an array of subfolder names); save it again with `rewardkit train --ensemble K`.");
        var members = new List<string>();
        foreach (var item in list.EnumerateArray())
        {
            var name = item.ValueKind == JsonValueKind.String ? item.GetString()! : "";
            if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name is "." or "..")
                throw new InvalidDataException($"{file}: '{MembersKey}' entry {item} is not a subfolder name; list the member folders inside the ensemble folder (member-0, ...).");
            var path = Path.Combine(directory, name);
            if (!Directory.Exists(path))
                throw new InvalidDataException($"{file}: member '{name}' is listed but {path} does not exist; the ensemble folder is incomplete (copy it whole, or train it again).");
            members.Add(path);
        }
        if (members.Count < 2)
            throw new InvalidDataException($"{file}: '{MembersKey}' lists {members.Count} member(s); an ensemble has at least 2.");
        return members;
    }

    static void CopyDirectory(string source, string target)
    {
        if (!Directory.Exists(source)) throw new DirectoryNotFoundException($"{source}: ensemble member folder not found.");
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        foreach (var sub in Directory.GetDirectories(source)) CopyDirectory(sub, Path.Combine(target, Path.GetFileName(sub)));
    }
}
