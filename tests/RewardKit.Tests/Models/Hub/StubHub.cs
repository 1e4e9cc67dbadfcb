using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace RewardKit.Tests.Models.Hub;

/// <summary>
/// A Hugging Face Hub stand-in on loopback that answers resolve URLs the way the Hub does: HEAD of a small file is 200
/// with <c>ETag</c> (a git blob id) and <c>X-Repo-Commit</c>; HEAD of a large file (<c>*.safetensors</c>) is a 302 to the
/// storage host with <c>X-Linked-Etag</c> (its sha256) and <c>X-Linked-Size</c>; GET follows with range support; a
/// missing file is 404; with <see cref="RequiredToken"/> set, requests without that bearer token get 401.
/// </summary>
public sealed class StubHub : IDisposable
{
    readonly HttpListener _listener = new();
    readonly Dictionary<(string Repo, string Revision), (string Commit, Dictionary<string, byte[]> Files)> _repos = [];
    readonly Task _loop;

    public StubHub()
    {
        var port = FreePort();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public string Endpoint { get; }

    public string? RequiredToken { get; set; }

    /// <summary>Overrides what the storage host sends for a blob (to test corrupted downloads).</summary>
    public Func<string, byte[], byte[]>? Corrupt { get; set; }

    /// <summary>Every request as "METHOD path [range]".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public void Add(string repo, string revision, string commit, string folder)
    {
        var files = Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        _repos[(repo, revision)] = (commit, files);
        _repos[(repo, commit)] = (commit, files);
    }

    static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try { Answer(context); }
            catch (HttpListenerException) { }
            finally { context.Response.Close(); }
        }
    }

    void Answer(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = request.Url!.AbsolutePath;
        Requests.Enqueue($"{request.HttpMethod} {path} {request.Headers["Range"]}".TrimEnd());
        // The storage host serves signed URLs without the token (clients drop Authorization on redirects), as the Hub's CDN.
        if (RequiredToken is { } token && !path.StartsWith("/storage/", StringComparison.Ordinal) && request.Headers["Authorization"] != $"Bearer {token}")
        {
            response.StatusCode = 401;
            return;
        }
        if (path.StartsWith("/storage/", StringComparison.Ordinal))
        {
            var parts = path.Split('/');   // /storage/{sha}/{repo...}/{rev}/{file}
            var (_, files) = _repos[(string.Join('/', parts[3..^2]), parts[^2])];
            var bytes = files[parts[^1]];
            SendBytes(request, response, Corrupt?.Invoke(parts[^1], bytes) ?? bytes);
            return;
        }
        var resolve = path.IndexOf("/resolve/", StringComparison.Ordinal);
        var repo = path[1..resolve];
        var rest = path[(resolve + "/resolve/".Length)..].Split('/', 2);
        if (!_repos.TryGetValue((repo, Uri.UnescapeDataString(rest[0])), out var entry) || !entry.Files.TryGetValue(rest[1], out var content))
        {
            response.StatusCode = 404;
            response.AddHeader("X-Error-Code", "EntryNotFound");
            return;
        }
        response.AddHeader("X-Repo-Commit", entry.Commit);
        if (rest[1].EndsWith(".safetensors", StringComparison.Ordinal))
        {
            response.StatusCode = 302;
            response.AddHeader("X-Linked-Etag", $"\"{Sha256(content)}\"");
            response.AddHeader("X-Linked-Size", content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            response.RedirectLocation = $"{Endpoint}/storage/{Sha256(content)}/{repo}/{rest[0]}/{rest[1]}";
            return;
        }
        response.AddHeader("ETag", $"\"{Convert.ToHexStringLower(SHA1.HashData(content))}\"");
        SendBytes(request, response, content);
    }

    static void SendBytes(HttpListenerRequest request, HttpListenerResponse response, byte[] bytes)
    {
        var start = 0;
        if (request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            start = int.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
            response.StatusCode = 206;
            response.AddHeader("Content-Range", $"bytes {start}-{bytes.Length - 1}/{bytes.Length}");
        }
        response.ContentLength64 = bytes.Length - start;
        if (request.HttpMethod != "HEAD") response.OutputStream.Write(bytes, start, bytes.Length - start);
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
