using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace RewardKit.Models.Hub;

/// <summary>
/// Turns a model argument into a local folder: an existing folder as it is, otherwise a Hugging Face Hub id
/// (<c>gpt2</c>, <c>org/name</c>, optionally <c>@revision</c>) fetched with the Hub's resolve URLs into a cache laid
/// out as Hugging Face's own (<c>models--org--name/blobs/ETAG</c>, <c>snapshots/COMMIT/FILE</c> linking to the blob,
/// <c>refs/REVISION</c> holding the commit), so a folder fetched by Python's <c>huggingface_hub</c> is reused and the
/// other way round. Downloads go to <c>blobs/ETAG.incomplete</c> and resume from its length with a range request; sizes
/// are checked against the Hub's headers and large (LFS) files against the sha256 their ETag names. Only the files a
/// RewardKit model folder can use are fetched (<see cref="Files"/>).
/// </summary>
public sealed partial class HubModelResolver : IDisposable
{
    /// <summary>The files fetched when present; a model needs <c>config.json</c> and its weights.</summary>
    public static readonly IReadOnlyList<string> Files =
    [
        "config.json", "model.safetensors", "adapter_config.json", "adapter_model.safetensors", "rewardkit.json",
        "tokenizer.json", "vocab.json", "merges.txt", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
        "generation_config.json",
    ];

    readonly HubSettings _settings;
    // HEAD without redirects (the Hub's redirect of a large file carries its X-Linked-Size and X-Linked-Etag);
    // GET follows them to the storage host (which drops the Authorization header, as huggingface_hub does).
    readonly HttpClient _head = new(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
    readonly HttpClient _get = new() { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>A resolver with <paramref name="settings"/> (default: from the environment).</summary>
    public HubModelResolver(HubSettings? settings = null) => _settings = settings ?? HubSettings.FromEnvironment();

    /// <summary>Reports file progress: name, bytes so far, total bytes (0 when unknown).</summary>
    public IProgress<(string File, long Bytes, long Total)>? Progress { get; init; }

    /// <summary>True when <paramref name="text"/> has the shape of a Hub id (<c>name</c> or <c>org/name</c>, optional <c>@rev</c>).</summary>
    public static bool IsHubId(string text) => HubIdPattern().IsMatch(text);

    /// <summary>
    /// The local folder for <paramref name="pathOrId"/>: the folder itself when it exists, else the cached snapshot of the
    /// Hub model (fetched unless offline). Throws <see cref="DirectoryNotFoundException"/> for a missing folder that is no
    /// Hub id, and <see cref="HubException"/> naming the id, file and fix when the Hub cannot provide it.
    /// </summary>
    public string Resolve(string pathOrId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pathOrId);
        if (Directory.Exists(pathOrId)) return pathOrId;
        if (!IsHubId(pathOrId))
            throw new DirectoryNotFoundException($"{pathOrId}: no such model folder (nor a Hub id such as gpt2 or org/name@revision); check the path");
        var at = pathOrId.IndexOf('@');
        var repo = at < 0 ? pathOrId : pathOrId[..at];
        var revision = at < 0 ? "main" : pathOrId[(at + 1)..];
        var root = Path.Combine(_settings.CacheDirectory, "models--" + repo.Replace("/", "--", StringComparison.Ordinal));
        return _settings.Offline ? Cached(pathOrId, root, revision) : Fetch(repo, revision, root, cancellationToken);
    }

    string Cached(string id, string root, string revision)
    {
        var refFile = Path.Combine(root, "refs", revision);
        var commit = File.Exists(refFile) ? File.ReadAllText(refFile).Trim() : revision;
        var snapshot = Path.Combine(root, "snapshots", commit);
        if (!File.Exists(Path.Combine(snapshot, "config.json")))
            throw new HubException($"{id}: HF_HUB_OFFLINE is set and the model is not in the cache ({root}); run once with the network, or unset HF_HUB_OFFLINE");
        return snapshot;
    }

    string Fetch(string repo, string revision, string root, CancellationToken ct)
    {
        string? commit = null;
        var fetched = new List<string>();
        foreach (var file in Files)
        {
            var info = Head(repo, revision, file, ct);
            if (info is null) continue;
            commit ??= info.Commit;
            var blob = Download(repo, revision, file, info, root, ct);
            Link(root, info.Commit, file, blob);
            fetched.Add(file);
        }
        if (commit is null || !fetched.Contains("config.json"))
            throw new HubException($"{repo}@{revision}: no such local folder, and the Hub ({_settings.Endpoint}) has no config.json for it; check the path, or the id and revision");
        if (!fetched.Contains("model.safetensors") && !fetched.Contains("adapter_model.safetensors"))
            throw new HubException($"{repo}@{revision}: no model.safetensors on the Hub (RewardKit reads safetensors weights only); convert the checkpoint with save_pretrained(safe_serialization=True)");
        Directory.CreateDirectory(Path.Combine(root, "refs"));
        if (revision != commit) AtomicWrite(Path.Combine(root, "refs", revision), commit);
        return Path.Combine(root, "snapshots", commit);
    }

    /// <summary>What a HEAD of a resolve URL says about a file.</summary>
    sealed record FileInfoHeaders(string Commit, string ETag, long? Size);

    FileInfoHeaders? Head(string repo, string revision, string file, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Head, ResolveUrl(repo, revision, file));
        using var response = Send(_head, request, repo, file, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if ((int)response.StatusCode >= 400) throw HttpError(response.StatusCode, repo, revision, file);
        var commit = Header(response, "X-Repo-Commit")
            ?? throw new HubException($"{repo}@{revision}: {file}: the server sent no X-Repo-Commit header; is HF_ENDPOINT ({_settings.Endpoint}) a Hugging Face Hub?");
        var etag = Header(response, "X-Linked-Etag") ?? Header(response, "ETag")
            ?? throw new HubException($"{repo}@{revision}: {file}: the server sent no ETag; cannot cache the file");
        var size = long.TryParse(Header(response, "X-Linked-Size"), out var linked) ? linked : response.Content.Headers.ContentLength;
        return new FileInfoHeaders(commit, etag.Replace("W/", "", StringComparison.Ordinal).Trim('"'), size);
    }

    string Download(string repo, string revision, string file, FileInfoHeaders info, string root, CancellationToken ct)
    {
        var blobs = Path.Combine(root, "blobs");
        Directory.CreateDirectory(blobs);
        var blob = Path.Combine(blobs, info.ETag);
        if (File.Exists(blob) && (info.Size is null || new FileInfo(blob).Length == info.Size)) return blob;
        var partial = blob + ".incomplete";
        var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (have == 0 || have != info.Size)
        {
            using var request = Request(HttpMethod.Get, ResolveUrl(repo, revision, file));
            if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
            using var response = Send(_get, request, repo, file, ct, HttpCompletionOption.ResponseHeadersRead);
            if ((int)response.StatusCode >= 400) throw HttpError(response.StatusCode, repo, revision, file);
            var append = response.StatusCode == HttpStatusCode.PartialContent;   // a server that ignores Range sends it all
            using var output = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write);
            using var input = response.Content.ReadAsStream(ct);
            Copy(input, output, file, append ? have : 0, info.Size ?? 0, ct);
        }
        Verify(partial, file, info, $"{repo}@{revision}");
        File.Move(partial, blob, overwrite: true);
        return blob;
    }

    void Copy(Stream input, Stream output, string file, long start, long total, CancellationToken ct)
    {
        var buffer = new byte[1 << 16];
        var done = start;
        int n;
        while ((n = input.Read(buffer)) > 0)
        {
            ct.ThrowIfCancellationRequested();
            output.Write(buffer, 0, n);
            done += n;
            Progress?.Report((file, done, total));
        }
    }

    static void Verify(string partial, string file, FileInfoHeaders info, string id)
    {
        var length = new FileInfo(partial).Length;
        if (info.Size is { } size && length != size)
        {
            if (length > size) File.Delete(partial);   // a bad resume: start over next time
            throw new HubException($"{id}: {file}: downloaded {length} bytes but the Hub announced {size}; run the command again to resume");
        }
        if (!Sha256Pattern().IsMatch(info.ETag)) return;   // small files carry a git blob id, not a content hash
        using var stream = File.OpenRead(partial);
        var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (actual == info.ETag) return;
        stream.Dispose();
        File.Delete(partial);
        throw new HubException($"{id}: {file}: sha256 {actual} does not match the Hub's {info.ETag}; the download was corrupted and has been removed: run the command again");
    }

    static void Link(string root, string commit, string file, string blob)
    {
        var snapshot = Path.Combine(root, "snapshots", commit);
        Directory.CreateDirectory(snapshot);
        var target = Path.Combine(snapshot, file);
        if (File.Exists(target)) File.Delete(target);
        try { File.CreateSymbolicLink(target, Path.GetRelativePath(snapshot, blob)); }
        catch (IOException) { File.Copy(blob, target); }       // file systems without symbolic links
        catch (UnauthorizedAccessException) { File.Copy(blob, target); }
    }

    static void AtomicWrite(string path, string text)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    string ResolveUrl(string repo, string revision, string file) =>
        $"{_settings.Endpoint}/{repo}/resolve/{Uri.EscapeDataString(revision)}/{file}";

    HttpRequestMessage Request(HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        if (_settings.Token is { } token) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.UserAgent.ParseAdd("rewardkit/1.0");
        return request;
    }

    HttpResponseMessage Send(HttpClient client, HttpRequestMessage request, string repo, string file, CancellationToken ct,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try { return client.Send(request, completion, ct); }
        catch (HttpRequestException e)
        {
            throw new HubException($"{repo}: {file}: cannot reach {_settings.Endpoint} ({e.Message}); check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use the cache", e);
        }
    }

    HubException HttpError(HttpStatusCode status, string repo, string revision, string file) => status switch
    {
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new HubException(
            $"{repo}@{revision}: {file}: the Hub answered {(int)status} {status}: the model does not exist, or is gated or private (then set HF_TOKEN to a token with access)"
            + (_settings.Token is null ? "" : " (the HF_TOKEN given was refused)")),
        _ => new HubException($"{repo}@{revision}: {file}: the Hub answered {(int)status} {status}; check the id and revision"),
    };

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()
        : response.Content.Headers.TryGetValues(name, out var content) ? content.FirstOrDefault() : null;

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9][A-Za-z0-9_.\-]*)?(@[A-Za-z0-9_.\-/]+)?$")]
    private static partial Regex HubIdPattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();

    /// <inheritdoc />
    public void Dispose()
    {
        _head.Dispose();
        _get.Dispose();
    }
}
