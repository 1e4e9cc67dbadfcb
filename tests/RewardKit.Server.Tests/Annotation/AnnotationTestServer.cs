using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using RewardKit.Annotation;
using RewardKit.Server.Annotation;

namespace RewardKit.Server.Tests.Annotation;

/// <summary>The annotation app on a real Kestrel port (127.0.0.1:0) over a fresh database, and clients that sign in as browsers do.</summary>
public sealed partial class AnnotationTestServer : IAsyncDisposable
{
    readonly WebApplication _app;

    AnnotationTestServer(WebApplication app, AnnotationStore store)
    {
        _app = app;
        Store = store;
        Url = app.Urls.First();
    }

    public AnnotationStore Store { get; }
    public string Url { get; }

    public static async Task<AnnotationTestServer> StartAsync(IEnumerable<AnnotationTask> tasks, int k = 2, int goldEvery = 0, int requestsPerMinute = 100_000)
    {
        var store = AnnotationTestData.Store(tasks, k, goldEvery);
        var app = AnnotationApp.Build(new AnnotationServerOptions { Database = store.Path, RequestsPerMinute = requestsPerMinute }, ["--urls", "http://127.0.0.1:0"]);
        await app.StartAsync();
        return new AnnotationTestServer(app, store);
    }

    /// <summary>A client with its own cookie jar that does not follow redirects.</summary>
    public AnnotationClient NewClient() => new(Url);

    /// <summary>Invites <paramref name="id"/> and signs a new client in with the token.</summary>
    public async Task<AnnotationClient> SignInAsync(string id, AnnotatorRole role = AnnotatorRole.Annotator)
    {
        var client = NewClient();
        var response = await client.PostFormAsync("/login", ("token", Store.Invite(id, role)));
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path.GetDirectoryName(Store.Path)!, true); } catch (IOException) { }
    }
}

/// <summary>An HTTP client that keeps cookies and reads the CSRF token off the page before each form post, as a browser would.</summary>
public sealed partial class AnnotationClient : IDisposable
{
    public AnnotationClient(string url)
    {
        Http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri(url) };
    }

    public CookieContainer Cookies { get; } = new();
    public HttpClient Http { get; }

    [GeneratedRegex("name=\"csrf\" value=\"([0-9a-f]+)\"")]
    private static partial Regex CsrfField();

    /// <summary>The CSRF token on the page at <paramref name="page"/>.</summary>
    public async Task<string> CsrfAsync(string page = "/login")
    {
        var html = await Http.GetStringAsync(page);
        return CsrfField().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException($"no CSRF field on {page}: {html}");
    }

    /// <summary>Posts a form with this session's CSRF token (the same on every page of a session) and the fields.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, params (string Name, string Value)[] fields) =>
        await PostRawAsync(path, [("csrf", await CsrfAsync()), .. fields]);

    /// <summary>Posts exactly these fields (no CSRF token added).</summary>
    public Task<HttpResponseMessage> PostRawAsync(string path, IEnumerable<(string Name, string Value)> fields) =>
        Http.PostAsync(path, new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))));

    /// <summary>The id of the task <c>/next</c> hands out, or null when the queue is empty.</summary>
    public async Task<string?> NextTaskAsync()
    {
        var response = await Http.GetAsync("/next");
        if (response.StatusCode == HttpStatusCode.OK) return null;
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        Assert.StartsWith("/task/", location);
        return Uri.UnescapeDataString(location["/task/".Length..].Split('?')[0]);
    }

    public void Dispose() => Http.Dispose();
}
