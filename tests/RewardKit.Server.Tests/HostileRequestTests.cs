using System.Net;
using System.Text;

namespace RewardKit.Server.Tests;

/// <summary>Malformed and hostile requests: each gets the right status and a problem saying what to fix, never a 500.</summary>
public class HostileRequestTests : IClassFixture<HostileRequestTests.Fixture>
{
    public sealed class Fixture : IDisposable
    {
        public TestServer Server { get; } = new(new()
        {
            ["RewardKit:MaxItems"] = "100", ["RewardKit:MaxTextLength"] = "1000", ["RewardKit:MaxBodyBytes"] = "1048576",
        }, withKeys: true);
        public void Dispose() => Server.Dispose();
    }

    readonly TestServer _server;
    public HostileRequestTests(Fixture fixture) => _server = fixture.Server;

    static string Items(int n) => "{\"items\": [" + string.Join(',', Enumerable.Repeat("{\"prompt\":\"p\",\"response\":\"r\"}", n)) + "]}";

    public static TheoryData<string, string, string, int, string> Cases => new()
    {
        // path, body, content type, expected status, expected text in the problem
        { "/v1/score", "{\"items\": [", "application/json", 400, "invalid JSON" },
        { "/v1/score", "{\"items\": \"all of them\"}", "application/json", 400, "$.items" },
        { "/v1/score", "{\"items\": [{\"prompt\": 42, \"response\": \"r\"}]}", "application/json", 400, "$.items[0].prompt" },
        { "/v1/score", "{\"items\": [{\"prompt\": null, \"response\": \"r\"}]}", "application/json", 400, "items[0].prompt is missing or null" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"p\"}]}", "application/json", 400, "items[0].response is missing" },
        { "/v1/score", "{\"items\": []}", "application/json", 400, "items is empty" },
        { "/v1/score", "{}", "application/json", 400, "items is missing" },
        { "/v1/score", "null", "application/json", 400, "JSON null" },
        { "/v1/score", "", "application/json", 400, "body is empty" },
        { "/v1/score", "[1, 2, 3]", "application/json", 400, "invalid JSON at $" },
        { "/v1/score", "{\"items\": [null]}", "application/json", 400, "items[0] is null" },
        { "/v1/score", "{\"items\": [{\"promt\": \"p\", \"response\": \"r\"}]}", "application/json", 400, "promt" },
        { "/v1/score", Items(10_000), "application/json", 413, "items has 10000 entries; the limit is 100" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"p\", \"response\": \"" + new string('x', 5000) + "\"}]}", "application/json", 413, "items[0].response is 5000 characters" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"" + new string('x', 2_000_000) + "\", \"response\": \"r\"}]}", "application/json", 413, "the limit is 1048576" },
        { "/v1/score", Items(1), "text/plain", 415, "application/json" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"p\", \"response\": \"r\"}], \"model\": \"gpt-9\"}", "application/json", 404, "unknown model 'gpt-9'" },
        { "/v1/score", new string('[', 200) + new string(']', 200), "application/json", 400, "invalid JSON" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"p\", \"response\": \"r\"}], \"items\": 5}", "application/json", 400, "invalid JSON" },
        { "/v1/rank", "{\"prompt\": \"p\", \"responses\": []}", "application/json", 400, "at least 1" },
        { "/v1/rank", "{\"prompt\": \"p\", \"responses\": [\"a\", null]}", "application/json", 400, "responses[1] is missing or null" },
        { "/v1/best-of-n", "{\"responses\": [\"a\"]}", "application/json", 400, "prompt is missing" },
        { "/v1/compare", "{\"prompt\": \"p\", \"a\": \"x\"}", "application/json", 400, "b is missing" },
        { "/v1/compare", "{\"prompt\": \"p\", \"a\": true, \"b\": \"y\"}", "application/json", 400, "$.a" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_bad_request_gets_a_problem_naming_the_fault(string path, string body, string contentType, int status, string expected)
    {
        var response = await _server.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, contentType));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(text.Contains(expected), text);
    }

    [Fact]
    public async Task Invalid_UTF8_is_a_bad_request()
    {
        var content = new ByteArrayContent([(byte)'{', (byte)'"', 0xff, 0xfe, (byte)'"', (byte)':', (byte)'1', (byte)'}']);
        content.Headers.ContentType = new("application/json");
        var response = await _server.Client.PostAsync("/v1/score", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_missing_key_gets_401_with_a_Bearer_challenge()
    {
        using var anonymous = _server.NewClient();
        var response = await anonymous.PostAsync("/v1/score", new StringContent(Items(1), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("Authorization: Bearer", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_wrong_key_gets_403_and_a_malformed_header_401()
    {
        using var client = _server.NewClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "not-the-key");
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/v1/score", new StringContent(Items(1), Encoding.UTF8, "application/json"))).StatusCode);
        client.DefaultRequestHeaders.Authorization = new("Basic", "dXNlcjpwYXNz");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/v1/score", new StringContent(Items(1), Encoding.UTF8, "application/json"))).StatusCode);
        // Health, readiness and metrics stay open for probes.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Wrong_methods_and_unknown_paths_get_problems_not_500()
    {
        var get = await _server.Client.GetAsync("/v1/score");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        var unknown = await _server.Client.PostAsync("/v1/nope", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task The_service_still_scores_after_the_hostile_requests()
    {
        await _server.WaitReadyAsync();
        var response = await _server.Client.PostAsync("/v1/score", new StringContent(Items(3), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
