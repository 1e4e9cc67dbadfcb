using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace RewardKit.Server;

/// <summary>
/// API keys stored hashed: the <c>--api-keys</c> file holds one sha256 (64 hex digits) of a key per line; blank lines
/// and lines starting with '#' are ignored. Requests to <c>/v1/*</c> send <c>Authorization: Bearer KEY</c>.
/// </summary>
public sealed class ApiKeys
{
    readonly HashSet<string> _hashes;

    ApiKeys(HashSet<string> hashes) => _hashes = hashes;

    /// <summary>Keys required? False when no file was configured.</summary>
    public bool Enabled => _hashes.Count > 0;

    /// <summary>No keys: every request is allowed.</summary>
    public static ApiKeys None { get; } = new([]);

    /// <summary>Reads a key-hash file; throws <see cref="InvalidDataException"/> naming the line that is not a sha256.</summary>
    public static ApiKeys Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: API key file not found (--api-keys).", path);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.Length != 64 || !line.All(Uri.IsHexDigit))
                throw new InvalidDataException($"{path}:{lineNumber}: expected the sha256 of a key as 64 hex digits, not the key itself; make one with `printf %s KEY | sha256sum`.");
            hashes.Add(line.ToLowerInvariant());
        }
        if (hashes.Count == 0) throw new InvalidDataException($"{path}: no key hashes; add one sha256 (hex) per line or drop --api-keys.");
        return new ApiKeys(hashes);
    }

    /// <summary>The sha256 (lower-case hex) of a key, as stored in the file.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Checks a request: null when allowed, else the problem to answer (401 missing or malformed, 403 wrong).</summary>
    public ApiProblem? Check(HttpRequest request)
    {
        if (!Enabled) return null;
        var header = request.Headers.Authorization.ToString();
        if (header.Length == 0)
            return Problems.Unauthorized("missing Authorization header; send `Authorization: Bearer YOUR_KEY`.");
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            return Problems.Unauthorized("the Authorization header must be `Bearer YOUR_KEY`.");
        // Hashing first makes the lookup independent of how much of the key matches.
        return _hashes.Contains(Hash(header[7..].Trim())) ? null : Problems.Forbidden("the API key is not valid for this service.");
    }
}
