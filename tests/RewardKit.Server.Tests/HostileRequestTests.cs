using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace RewardKit.Server.Tests;

/// <summary>Malformed and hostile requests: each gets the right status and a problem saying what to fix, never a 500.</summary>
public class HostileRequestTests : IClassFixture<HostileRequestTests.Fixture>
{
    public sealed class Fixture : IDisposable
    {
        public TestServer Server { get; } = new(new()
        {
            ["RewardKit:MaxItems"] = "100", ["RewardKit:MaxTextLength"] = "1000", ["RewardKit:MaxBodyBytes"] = "1048576",
        }, withKeys: true, services: FailingBody.Register);
        public void Dispose() => Server.Dispose();
    }

    readonly TestServer _server;
    public HostileRequestTests(Fixture fixture) => _server = fixture.Server;

    static string Items(int n) => "{\"items\": [" + string.Join(',', Enumerable.Repeat("{\"prompt\":\"p\",\"response\":\"r\"}", n)) + "]}";

    public static TheoryData<string, string, string, int, string> Cases => new()
    {
        // path, body, content type, expected status, expected text in the problem
        { "/v1/score", "{\"items\": [", "application/json", 400, "invalid JSON" },
        { "/v1/score", "{\"items\": \"all of them\"}", "application/json", 400, "items is a string; expected an array, each item an object with" },
        { "/v1/score", "{\"items\": [{\"prompt\": 42, \"response\": \"r\"}]}", "application/json", 400, "items[0].prompt is the number 42; expected a string" },
        { "/v1/score", "{\"items\": [7]}", "application/json", 400, "items[0] is the number 7; expected an object" },
        { "/v1/score", "{\"items\": [{\"prompt\": null, \"response\": \"r\"}]}", "application/json", 400, "items[0].prompt is missing or null" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"p\"}]}", "application/json", 400, "items[0].response is missing" },
        { "/v1/score", "{\"items\": []}", "application/json", 400, "items is empty" },
        { "/v1/score", "{}", "application/json", 400, "items is missing" },
        { "/v1/score", "null", "application/json", 400, "JSON null" },
        { "/v1/score", "", "application/json", 400, "body is empty" },
        { "/v1/score", "[1, 2, 3]", "application/json", 400, "the body is an array; expected an object" },
        { "/v1/score", "{\"items\": [null]}", "application/json", 400, "items[0] is null" },
        { "/v1/score", "{\"items\": [{\"promt\": \"p\", \"response\": \"r\"}]}", "application/json", 400, "'promt' is not a field of items[0]; use 'prompt', 'response'" },
        { "/v1/score", Items(10_000), "application/json", 413, "items has 10000 entries; the limit is 100" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"p\", \"response\": \"" + new string('x', 5000) + "\"}]}", "application/json", 413, "items[0].response is 5000 characters" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"" + new string('x', 2_000_000) + "\", \"response\": \"r\"}]}", "application/json", 413, "the limit is 1048576" },
        { "/v1/score", Items(1), "text/plain", 415, "application/json" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"p\", \"response\": \"r\"}], \"model\": \"gpt-9\"}", "application/json", 404, "unknown model 'gpt-9'" },
        { "/v1/score", new string('[', 200) + new string(']', 200), "application/json", 400, "the body is an array; expected an object" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"p\", \"response\": \"r\"}], \"items\": 5}", "application/json", 400, "items appears twice" },
        // Repeated keys are refused at every depth, also when both values are well-typed (once "last one wins").
        { "/v1/score", "{\"items\": [{\"prompt\": \"a\", \"response\": \"r\"}], \"items\": [{\"prompt\": \"b\", \"response\": \"r\"}]}", "application/json", 400, "items appears twice" },
        { "/v1/score", "{\"items\": [{\"prompt\": \"a\", \"prompt\": \"b\", \"response\": \"r\"}]}", "application/json", 400, "items[0].prompt appears twice" },
        { "/v1/rank", "{\"prompt\": \"p\", \"responses\": [\"a\"], \"prompt\": \"q\"}", "application/json", 400, "prompt appears twice" },
        { "/v1/compare", "{\"prompt\": \"p\", \"a\": \"x\", \"b\": \"y\", \"model\": \"m\", \"model\": \"n\"}", "application/json", 400, "model appears twice" },
        // Lone surrogate escapes: valid JSON syntax, no character.
        { "/v1/score", "{\"items\": [{\"prompt\": \"p\\ud800\", \"response\": \"r\"}]}", "application/json", 400, "items[0].prompt holds a lone surrogate escape" },
        { "/v1/best-of-n", "{\"prompt\": \"p\", \"responses\": [\"a\", \"\\udc00\"]}", "application/json", 400, "responses[1] holds a lone surrogate escape" },
        { "/v1/compare", "{\"prompt\": \"p\", \"a\": \"x\", \"b\": \"y\\ud83d\"}", "application/json", 400, "b holds a lone surrogate escape" },
        { "/v1/rank", "{\"prompt\": \"p\", \"responses\": []}", "application/json", 400, "at least 1" },
        { "/v1/rank", "{\"prompt\": \"p\", \"responses\": [\"a\", null]}", "application/json", 400, "responses[1] is missing or null" },
        { "/v1/best-of-n", "{\"responses\": [\"a\"]}", "application/json", 400, "prompt is missing" },
        { "/v1/compare", "{\"prompt\": \"p\", \"a\": \"x\"}", "application/json", 400, "b is missing" },
        { "/v1/compare", "{\"prompt\": \"p\", \"a\": true, \"b\": \"y\"}", "application/json", 400, "a is a JSON boolean; expected a string" },
        { "/v1/rank", "{\"prompt\": \"p\", \"responses\": [\"a\", 3]}", "application/json", 400, "responses[1] is the number 3; expected a string" },
        // A model that gives NaN for one input: the client learns which item, and no JSON writer meets NaN.
        { "/v1/score", "{\"items\": [{\"prompt\": \"p\", \"response\": \"fine\"}, {\"prompt\": \"p\", \"response\": \"nan-reward\"}]}", "application/json", 422, "items[1]: model 'fake' gave a non-finite reward" },
        { "/v1/rank", "{\"prompt\": \"p\", \"responses\": [\"nan-reward\", \"b\"]}", "application/json", 422, "responses[0]" },
        { "/v1/compare", "{\"prompt\": \"p\", \"a\": \"x\", \"b\": \"nan-reward\"}", "application/json", 422, "b: model" },
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
        Assert.DoesNotContain("Dto", text); // the wire names, not the .NET types behind them
    }

    [Theory]
    [InlineData("/v1/score", 400, "the body is malformed (Bad chunk size data)")]
    [InlineData("/v1/rank", 400, "the body is malformed")]
    [InlineData("/v1/best-of-n", 408, "the body arrived too slowly")]
    [InlineData("/v1/compare", 408, "the body arrived too slowly")]
    public async Task A_body_the_server_cannot_read_gets_its_own_status_as_a_problem_not_500(string path, int status, string expected)
    {
        // Kestrel throws BadHttpRequestException while the body is read (a bad chunk: 400, too slow: 408); the in-memory
        // server does not parse chunks, so the same exception comes from a body stream put in front of the endpoint.
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(Items(1), Encoding.UTF8, "application/json") };
        request.Headers.Add(FailingBody.Header, status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var response = await _server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, text);
    }

    [Fact]
    public async Task The_models_list_names_the_model_folder_but_never_its_path()
    {
        await _server.WaitReadyAsync();
        var text = await _server.Client.GetStringAsync("/v1/models");
        var json = System.Text.Json.JsonDocument.Parse(text).RootElement;
        Assert.Equal("model", json.GetProperty("models")[0].GetProperty("source").GetString());
        Assert.DoesNotContain(Path.GetTempPath().TrimEnd('/'), text);
    }

    [Fact]
    public async Task A_model_that_fails_to_load_is_reported_without_the_servers_paths()
    {
        using var temp = new TempDirectory();
        var missing = temp["models/rm-v3"];
        using var server = new TestServer(new() { ["RewardKit:Model"] = missing }, withModel: false);
        System.Text.Json.JsonElement lastError = default;
        for (var i = 0; i < 500 && lastError.ValueKind != System.Text.Json.JsonValueKind.String; i++)
        {
            lastError = (await TestServer.JsonOf(await server.Client.GetAsync("/v1/models"))).GetProperty("last_error");
            if (lastError.ValueKind != System.Text.Json.JsonValueKind.String) await Task.Delay(10);
        }
        var error = lastError.GetString()!;
        Assert.Contains("rm-v3", error);
        Assert.DoesNotContain(temp.Path, error);
        var notReady = await server.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.DoesNotContain(temp.Path, await notReady.Content.ReadAsStringAsync());
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

/// <summary>
/// With header <see cref="Header"/>: N, the request body throws Kestrel's <see cref="BadHttpRequestException"/> with
/// status N when read, as Kestrel does for a malformed chunk (400) or a body arriving too slowly (408).
/// </summary>
sealed class FailingBody : IStartupFilter
{
    public const string Header = "X-Test-Failing-Body";

    public static void Register(IServiceCollection services) => services.AddSingleton<IStartupFilter, FailingBody>();

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (context.Request.Headers.TryGetValue(Header, out var status))
                context.Request.Body = new Throwing(int.Parse(status!, System.Globalization.CultureInfo.InvariantCulture));
            return nextMiddleware(context);
        });
        next(app);
    };

    sealed class Throwing(int status) : Stream
    {
        Exception Fail() => new BadHttpRequestException(status == 408
            ? "Reading the request body timed out due to data arriving too slowly. See MinRequestBodyDataRate." : "Bad chunk size data.", status);
        public override int Read(byte[] buffer, int offset, int count) => throw Fail();
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(Fail());
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromException<int>(Fail());
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
