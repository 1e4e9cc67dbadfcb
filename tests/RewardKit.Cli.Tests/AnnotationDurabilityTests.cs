using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using RewardKit.Annotation;

namespace RewardKit.Cli.Tests;

/// <summary>
/// `rewardkit annotate serve` as a child process, killed with SIGKILL while annotators are submitting: every label the
/// server acknowledged (303 to the next task) must be in the database after the crash and served after a restart.
/// </summary>
public sealed partial class AnnotationDurabilityTests : IDisposable
{
    readonly string _dir = AnnotationTestData.TempFolder("durability");
    readonly List<Process> _servers = [];

    public void Dispose()
    {
        foreach (var p in _servers)
        {
            if (!p.HasExited) p.Kill();
            p.Dispose();
        }
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [GeneratedRegex(@"serving annotation on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ServingLine();

    [GeneratedRegex("name=\"csrf\" value=\"([0-9a-f]+)\"")]
    private static partial Regex CsrfField();

    /// <summary>Starts the CLI's `annotate serve` on a free port and returns its address once it listens.</summary>
    async Task<string> StartServerAsync(string db)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "RewardKit.Cli.exe" : "RewardKit.Cli");
        var start = File.Exists(apphost) ? new ProcessStartInfo(apphost) : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "RewardKit.Cli.dll") } };
        foreach (var a in new[] { "annotate", "serve", "--db", db, "--urls", "http://127.0.0.1:0", "--rate-limit", "1000000" }) start.ArgumentList.Add(a);
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        var process = Process.Start(start)!;
        _servers.Add(process);
        var url = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) { url.TrySetException(new InvalidOperationException("the server exited: " + string.Join('\n', log))); return; }
            log.Enqueue(e.Data);
            if (ServingLine().Match(e.Data) is { Success: true } m) url.TrySetResult(m.Groups[1].Value);
        };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return await url.Task.WaitAsync(TimeSpan.FromSeconds(90));
    }

    /// <summary>Signs in and submits answers until a request fails; records every (task, annotator) acknowledged with 303.</summary>
    static async Task SubmitUntilTheServerDiesAsync(string url, string annotator, string token, ConcurrentBag<(string Task, string Annotator)> acknowledged, Action onFailure)
    {
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = new Uri(url) };
        try
        {
            var csrf = CsrfField().Match(await http.GetStringAsync("/login")).Groups[1].Value;
            await http.PostAsync("/login", new FormUrlEncodedContent([new("csrf", csrf), new("token", token)]));
            csrf = CsrfField().Match(await http.GetStringAsync("/login")).Groups[1].Value; // bound to the session now
            while (true)
            {
                var next = await http.GetAsync("/next");
                if (next.StatusCode != HttpStatusCode.SeeOther) return; // queue empty
                var task = Uri.UnescapeDataString(next.Headers.Location!.OriginalString["/task/".Length..].Split('?')[0]);
                var form = new FormUrlEncodedContent([new("csrf", csrf), new("choice", "B"), new("strength", "2"), new("reason", $"{annotator} on {task}")]);
                var response = await http.PostAsync($"/task/{Uri.EscapeDataString(task)}", form);
                if (response.StatusCode == HttpStatusCode.SeeOther) acknowledged.Add((task, annotator));
                else throw new InvalidOperationException($"{task}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        catch (HttpRequestException)
        {
            onFailure(); // the server is gone
        }
        catch (IOException)
        {
            onFailure();
        }
    }

    [Fact]
    public async Task Every_acknowledged_label_survives_kill_9_of_the_server_during_a_burst_of_submissions()
    {
        var db = Path.Combine(_dir, "annotations.db");
        var store = AnnotationStore.Open(db);
        store.ImportTasks(Enumerable.Range(0, 2000).Select(i => AnnotationTestData.Pair($"t{i:0000}")).ToList());
        store.SaveSettings(new AnnotationSettings { AnnotatorsPerTask = 1, GoldEvery = 0 });
        store.Invite("admin", AnnotatorRole.Admin);
        var tokens = Enumerable.Range(0, 6).ToDictionary(i => $"ann{i}", i => store.Invite($"ann{i}", AnnotatorRole.Annotator));
        SqliteConnection.ClearAllPools();

        var server = _servers.Count;
        var url = await StartServerAsync(db);
        var acknowledged = new ConcurrentBag<(string Task, string Annotator)>();
        int failures = 0;
        var clients = tokens.Select(t => Task.Run(() => SubmitUntilTheServerDiesAsync(url, t.Key, t.Value, acknowledged, () => Interlocked.Increment(ref failures)))).ToList();
        var deadline = Stopwatch.StartNew();
        while (acknowledged.Count < 60 && deadline.Elapsed < TimeSpan.FromSeconds(60) && clients.All(c => !c.IsCompleted)) await Task.Delay(5);
        Assert.True(clients.All(c => !c.IsCompleted), "every client was still submitting when the server was killed");
        _servers[server].Kill(); // SIGKILL: no shutdown, no flush
        await _servers[server].WaitForExitAsync();
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(30));
        var acked = acknowledged.ToHashSet();
        Assert.True(acked.Count >= 60, $"only {acked.Count} labels were acknowledged before the kill");
        Assert.Equal(tokens.Count, failures); // every client saw the server die mid-burst

        // The database after the crash: every acknowledged label is there (a label stored but not yet acknowledged may be too).
        SqliteConnection.ClearAllPools();
        var labels = AnnotationStore.Open(db).Snapshot().Labels.Select(l => (l.TaskId, l.AnnotatorId)).ToHashSet();
        Assert.Empty(acked.Except(labels));
        Assert.InRange(labels.Count, acked.Count, acked.Count + tokens.Count);

        // And a restarted server serves them: an annotator sees the answer it was told was saved.
        var restarted = await StartServerAsync(db);
        var (task, who) = acked.First();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(restarted) };
        var csrf = CsrfField().Match(await http.GetStringAsync("/login")).Groups[1].Value;
        await http.PostAsync("/login", new FormUrlEncodedContent([new("csrf", csrf), new("token", tokens[who])]));
        var page = await http.GetStringAsync($"/task/{task}");
        Assert.Contains("You answered this task", page);
        Assert.Contains($"{who} on {task}", page);
    }
}
