using System.Security.Cryptography;

namespace RewardKit.IO;

/// <summary>The sha256 of a file, as model folders (<c>version</c>) and registry manifests record it: lower-case hex.</summary>
public static class FileHash
{
    /// <summary>The lower-case hex sha256 of the file at <paramref name="path"/>, read sequentially.</summary>
    public static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
