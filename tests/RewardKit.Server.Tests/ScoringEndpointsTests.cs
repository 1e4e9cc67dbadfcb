using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using System.Net;
using System.Net.Http.Json;
using RewardKit.Inference;

namespace RewardKit.Server.Tests;

public class ScoringEndpointsTests
{
    static RewardScorer Reference(TestServer server) =>
        new(FakeRewardModel.Load(server.Temp("model")), new RewardScorerOptions { CacheEntries = 0 });

    [Fact]
    public async Task Score_answers_raw_normalised_and_calibrated_rewards_in_order()
    {
        using var server = new TestServer();
        await server.WaitReadyAsync();
        var response = await server.ScoreAsync(("q", "a helpful answer"), ("q", "harmful stuff"), ("", ""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await TestServer.JsonOf(response);
        var reference = Reference(server);
        var expected = reference.Score([new("q", "a helpful answer"), new("q", "harmful stuff"), new("", "")]);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(expected[i].Raw, json.GetProperty("rewards")[i].GetDouble(), 5);
            Assert.Equal(expected[i].Normalized, json.GetProperty("normalized")[i].GetDouble(), 5);
            Assert.Equal(expected[i].Calibrated, json.GetProperty("calibrated")[i].GetDouble(), 5);
        }
        Assert.Equal("fake", json.GetProperty("model").GetString());
        Assert.Equal(2.0, json.GetProperty("temperature").GetDouble());
    }

    [Fact]
    public async Task Rank_compare_and_best_of_n_agree_with_the_library()
    {
        using var server = new TestServer();
        await server.WaitReadyAsync();
        string[] responses = ["meh", "helpful helpful", "harmful"];
        var rank = await TestServer.JsonOf(await server.Client.PostAsJsonAsync("/v1/rank", new { prompt = "q", responses }));
        var ranking = rank.GetProperty("ranking");
        Assert.Equal(1, ranking[0].GetProperty("index").GetInt32());
        Assert.Equal(2, ranking[2].GetProperty("index").GetInt32());
        Assert.Equal(1.0, ranking.EnumerateArray().Sum(r => r.GetProperty("probability_best").GetDouble()), 9);

        var best = await TestServer.JsonOf(await server.Client.PostAsJsonAsync("/v1/best-of-n", new { prompt = "q", responses }));
        Assert.Equal(1, best.GetProperty("best_index").GetInt32());
        Assert.Equal("helpful helpful", best.GetProperty("best_response").GetString());

        var compare = await TestServer.JsonOf(await server.Client.PostAsJsonAsync("/v1/compare", new { prompt = "q", a = "helpful", b = "harmful" }));
        var expected = await Reference(server).CompareAsync("q", "helpful", "harmful");
        Assert.Equal(expected.ProbabilityAPreferred, compare.GetProperty("probability_a_preferred").GetDouble(), 6);
        Assert.True(compare.GetProperty("probability_a_preferred").GetDouble() > 0.5);
    }

    [Fact]
    public async Task Health_is_ok_without_a_model_but_ready_only_with_one()
    {
        using var empty = new TestServer(withModel: false);
        Assert.Equal(HttpStatusCode.OK, (await empty.Client.GetAsync("/healthz")).StatusCode);
        var ready = await empty.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("--model", await ready.Content.ReadAsStringAsync());
        var score = await empty.ScoreAsync(("p", "r"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, score.StatusCode);

        using var served = new TestServer();
        await served.WaitReadyAsync();
        Assert.Equal(HttpStatusCode.OK, (await served.Client.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task Models_lists_the_served_model_and_the_cache_hit_rate()
    {
        using var server = new TestServer();
        await server.WaitReadyAsync();
        await server.ScoreAsync(("p", "r"));
        await server.ScoreAsync(("p", "r"));
        var json = await TestServer.JsonOf(await server.Client.GetAsync("/v1/models"));
        var model = json.GetProperty("models")[0];
        Assert.Equal("fake", model.GetProperty("name").GetString());
        Assert.Equal(0.5, model.GetProperty("cache_hit_rate").GetDouble(), 9);
        Assert.Single(server.Models);
        Assert.Equal(1, server.Models.Single().SequencesScored);
    }

    [Fact]
    public async Task Metrics_are_in_Prometheus_text_format_with_the_instruments_names_and_this_servers_counts_only()
    {
        using var server = new TestServer();
        await server.WaitReadyAsync();
        await server.ScoreAsync(("p", "r"));
        await server.ScoreAsync(("p", "r"));
        await server.Client.PostAsync("/v1/score", new StringContent("{", System.Text.Encoding.UTF8, "application/json"));
        // A request is counted once its middleware returns, which can be just after the client has read the response:
        // scrape until the third request shows (bounded), then check everything on that scrape.
        HttpResponseMessage response;
        string text;
        var scrapes = 0;
        do
        {
            if (scrapes++ > 0) await Task.Delay(50);
            response = await server.Client.GetAsync("/metrics");
            text = await response.Content.ReadAsStringAsync();
        }
        while (!text.Contains("le=\"+Inf\"} 3", StringComparison.Ordinal) && scrapes < 100);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString());
        Assert.Contains("# TYPE rewardkit_http_requests_total counter", text);
        Assert.Contains("rewardkit_http_requests_total{endpoint=\"/v1/score\",status=\"200\"} 2", text);
        Assert.Contains("rewardkit_http_requests_total{endpoint=\"/v1/score\",status=\"400\"} 1", text);
        // OpenTelemetry's exporter writes an empty label set as {} (valid exposition format).
        Assert.Contains("rewardkit_cache_hits_total{} 1", text);
        Assert.Contains("rewardkit_cache_misses_total{} 1", text);
        Assert.Contains("rewardkit_http_request_duration_seconds_bucket{endpoint=\"/v1/score\",le=\"+Inf\"} 3", text);
        Assert.Contains("rewardkit_batch_size_count{} 1", text);
        Assert.DoesNotContain("otel_scope", text);
    }

    [Fact]
    public async Task The_API_reference_page_is_served_from_the_OpenAPI_document()
    {
        using var server = new TestServer();
        var response = await server.Client.GetAsync("/scalar/v1");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/html", response.Content.Headers.ContentType!.ToString());
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("RewardKit scoring API", html);
        Assert.Contains("openapi/v1.json", html);
        // The page's script ships inside the package: the reference works without the internet.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await server.Client.GetAsync("/scalar/scalar.js")).StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_endpoints()
    {
        using var server = new TestServer();
        var text = await server.Client.GetStringAsync("/openapi/v1.json");
        foreach (var path in new[] { "/v1/score", "/v1/rank", "/v1/compare", "/v1/best-of-n", "/v1/models", "/v1/drift", "/readyz" })
            Assert.Contains($"\"{path}\"", text);
        Assert.Contains("ScoreRequest", text);
    }

    [Theory]
    [InlineData("/v1/score", "post", "200 400 401 403 404 408 413 415 422 429 503")]
    [InlineData("/v1/rank", "post", "200 400 401 403 404 408 413 415 422 429 503")]
    [InlineData("/v1/best-of-n", "post", "200 400 401 403 404 408 413 415 422 429 503")]
    [InlineData("/v1/compare", "post", "200 400 401 403 404 408 413 415 422 429 503")]
    [InlineData("/v1/models", "get", "200 401 403")]
    [InlineData("/v1/drift", "get", "200 401 403 503")]
    [InlineData("/readyz", "get", "200 503")]
    public async Task The_OpenAPI_document_lists_every_status_an_endpoint_can_answer(string path, string method, string statuses)
    {
        using var server = new TestServer();
        using var doc = System.Text.Json.JsonDocument.Parse(await server.Client.GetStringAsync("/openapi/v1.json"));
        var listed = doc.RootElement.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses")
            .EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal);
        Assert.Equal(statuses.Split(' '), listed);
    }

    [Fact]
    public async Task The_scoring_endpoints_take_no_parameter_a_client_could_send()
    {
        // The handlers' services (host, options) are injected; nothing may leak into the document as a query parameter.
        using var server = new TestServer();
        using var doc = System.Text.Json.JsonDocument.Parse(await server.Client.GetStringAsync("/openapi/v1.json"));
        foreach (var path in new[] { "/v1/score", "/v1/rank", "/v1/compare", "/v1/best-of-n" })
            Assert.False(doc.RootElement.GetProperty("paths").GetProperty(path).GetProperty("post").TryGetProperty("parameters", out _), path);
    }

    [Fact]
    public async Task Drift_compares_served_rewards_with_the_training_histogram()
    {
        using var server = new TestServer();
        await server.WaitReadyAsync();
        await server.ScoreAsync(Enumerable.Range(0, 50).Select(i => ("p", $"helpful helpful answer {i}")).ToArray());
        var json = await TestServer.JsonOf(await server.Client.GetAsync("/v1/drift"));
        Assert.Equal(50, json.GetProperty("served").GetInt32());
        Assert.True(json.GetProperty("population_stability_index").GetDouble() > 0);
        Assert.InRange(json.GetProperty("kolmogorov_smirnov").GetDouble(), 0, 1);
        Assert.Equal(6, json.GetProperty("served_counts").GetArrayLength());
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_Retry_After()
    {
        // One request holds the forward pass (gated), the queue holds one more; of the others sent at once, every one
        // but the queued one must be refused at once. No request waits on another, so no ordering race can stall it.
        using var gate = new ManualResetEventSlim(false);
        using var server = new TestServer(new() { ["RewardKit:QueueCapacity"] = "1", ["RewardKit:MicroBatching"] = "false", ["RewardKit:CacheEntries"] = "0" },
            onLoad: m => m.OnForward = _ => gate.Wait(TimeSpan.FromSeconds(60)));
        await server.WaitReadyAsync();
        var running = server.ScoreAsync(("p", "first"));
        var forwardBy = DateTime.UtcNow.AddSeconds(30);
        while (server.Models.Single().Forwards == 0)
        {
            Assert.True(DateTime.UtcNow < forwardBy, $"the first request never reached the model's forward pass (it is {running.Status})");
            await Task.Delay(1);
        }
        var others = Enumerable.Range(0, 4).Select(i => server.ScoreAsync(("p", $"other {i}"))).ToList();
        // Three of the four are refused without waiting for the gate.
        var refusedBy = DateTime.UtcNow.AddSeconds(30);
        while (others.Count(t => t.IsCompleted) < 3)
        {
            Assert.True(DateTime.UtcNow < refusedBy, $"only {others.Count(t => t.IsCompleted)} of 4 requests were answered while the queue was full");
            await Task.Delay(5);
        }
        foreach (var refused in others.Where(t => t.IsCompleted).Select(t => t.Result))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
            Assert.Contains("queue is full", await refused.Content.ReadAsStringAsync());
        }
        gate.Set();
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        var statuses = (await Task.WhenAll(others)).Select(r => r.StatusCode).ToList();
        Assert.Equal(1, statuses.Count(c => c == HttpStatusCode.OK));
        Assert.Equal(3, statuses.Count(c => c == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task A_request_slower_than_the_timeout_gets_503_and_the_service_keeps_working()
    {
        // The timeout runs on a fake clock: the request times out when the test moves the clock, not after real seconds.
        var clock = new FakeTimeProvider();
        using var gate = new ManualResetEventSlim(false);
        using var server = new TestServer(new() { ["RewardKit:RequestTimeoutSeconds"] = "5" },
            onLoad: m => m.OnForward = batch => { if (batch.Count == 3) gate.Wait(TimeSpan.FromSeconds(60)); },
            services: s => s.AddSingleton<TimeProvider>(clock));
        await server.WaitReadyAsync();
        var slowTask = server.ScoreAsync(("p", "a"), ("p", "b"), ("p", "c"));
        while (server.Models.Single().Forwards == 0) await Task.Delay(1); // the request is inside the (held) forward pass
        clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(slowTask.IsCompleted, "answered before its timeout");
        clock.Advance(TimeSpan.FromSeconds(0.1));
        var slow = await slowTask;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, slow.StatusCode);
        Assert.Contains("RequestTimeoutSeconds", await slow.Content.ReadAsStringAsync());
        gate.Set();
        Assert.Equal(HttpStatusCode.OK, (await server.ScoreAsync(("p", "d"))).StatusCode);
    }
}
