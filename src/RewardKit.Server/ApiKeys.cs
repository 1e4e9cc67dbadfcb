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
    public IResult? Check(HttpRequest request)
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

/// <summary>RFC 7807 problem details with a message saying what to fix.</summary>
public static class Problems
{
    static IResult Make(int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(detail: detail, statusCode: status, title: title, type: $"https://www.rfc-editor.org/rfc/rfc9110#status.{status}", extensions: extensions);

    /// <summary>400: the request is malformed.</summary>
    public static IResult BadRequest(string detail) => Make(400, "Bad request", detail);

    /// <summary>401: no (usable) credentials.</summary>
    public static IResult Unauthorized(string detail) => new WithHeader(Make(401, "Unauthorized", detail), "WWW-Authenticate", "Bearer");

    /// <summary>403: wrong credentials.</summary>
    public static IResult Forbidden(string detail) => Make(403, "Forbidden", detail);

    /// <summary>404: e.g. an unknown model.</summary>
    public static IResult NotFound(string detail) => Make(404, "Not found", detail);

    /// <summary>408: the body arrived too slowly (Kestrel's MinRequestBodyDataRate).</summary>
    public static IResult RequestTimeout(string detail) => Make(408, "Request timeout", detail);

    /// <summary>422: well-formed, but the model cannot score it (e.g. it gave a non-finite reward).</summary>
    public static IResult Unprocessable(string detail) => Make(422, "Unprocessable content", detail);

    /// <summary>413: more than the limits allow.</summary>
    public static IResult TooLarge(string detail) => Make(413, "Payload too large", detail);

    /// <summary>415: not JSON.</summary>
    public static IResult UnsupportedMediaType(string detail) => Make(415, "Unsupported media type", detail);

    /// <summary>429 with Retry-After: the queue is full.</summary>
    public static IResult TooManyRequests(string detail, int retryAfterSeconds = 1) =>
        new WithHeader(Make(429, "Too many requests", detail), "Retry-After", retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>503: not ready, or timed out.</summary>
    public static IResult Unavailable(string detail, int retryAfterSeconds = 1) =>
        new WithHeader(Make(503, "Service unavailable", detail), "Retry-After", retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    sealed class WithHeader(IResult inner, string name, string value) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers[name] = value;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
