using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RewardKit.Server.Tests;

public class KestrelTests
{
    [Fact]
    public async Task A_real_Kestrel_on_loopback_scores_and_finishes_in_flight_requests_on_shutdown()
    {
        using var temp = new TempDirectory();
        var model = FakeRewardModel.WriteFolder(temp["m"], forwardMs: 300);
        await using var app = RewardServer.Build(["--urls", "http://127.0.0.1:0", "--model", model, "--Logging:LogLevel:Default", "Warning"], FakeRewardModel.Load);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Assert.StartsWith("http://127.0.0.1:", address);
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        var readyBy = DateTime.UtcNow.AddSeconds(30);
        while (!(await client.GetAsync("/readyz")).IsSuccessStatusCode)
        {
            Assert.True(DateTime.UtcNow < readyBy, "Kestrel did not answer /readyz with 200 within 30 s");
            await Task.Delay(10);
        }

        var inFlight = client.PostAsJsonAsync("/v1/score", new { items = new[] { new { prompt = "p", response = "helpful" } } });
        await Task.Delay(100); // the request is inside its 300 ms forward pass
        await app.StopAsync();
        var response = await inFlight;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await TestServer.JsonOf(response);
        Assert.True(json.GetProperty("rewards")[0].GetDouble() > 0);
    }
}

/// <summary>
/// Hostile requests against a real Kestrel on loopback, written byte by byte on a socket: malformed chunked bodies,
/// bodies that stop arriving, requests Kestrel refuses before the application runs, and hostile JSON.
/// </summary>
public class KestrelHostileTests : IClassFixture<KestrelHostileTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        readonly TempDirectory _temp = new();
        WebApplication? _app;

        public int Port { get; private set; }
        public HttpClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var model = FakeRewardModel.WriteFolder(_temp["m"]);
            _app = RewardServer.Build(["--urls", "http://127.0.0.1:0", "--model", model, "--Logging:LogLevel:Default", "None"], FakeRewardModel.Load);
            // A short grace period so that a body which stops arriving is cut off in about two seconds, not five.
            _app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.MinRequestBodyDataRate =
                new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(1.5));
            await _app.StartAsync();
            var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            Port = new Uri(address).Port;
            Client = new HttpClient { BaseAddress = new Uri(address) };
            for (var i = 0; i < 3000 && !(await Client.GetAsync("/readyz")).IsSuccessStatusCode; i++) await Task.Delay(10);
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            if (_app is not null) await _app.DisposeAsync();
            _temp.Dispose();
        }
    }

    readonly Fixture _server;
    public KestrelHostileTests(Fixture fixture) => _server = fixture;

    public static readonly string[] Endpoints = ["/v1/score", "/v1/rank", "/v1/best-of-n", "/v1/compare"];

    static byte[] Head(string path, string headers) =>
        Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{headers}\r\n");

    /// <summary>Sends <paramref name="request"/> (keeping the connection open) and reads one response: status, headers, body.</summary>
    internal static async Task<(int Status, string Headers, string Body)> SendRawAsync(int port, byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(request);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = new List<byte>();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var text = Encoding.UTF8.GetString([.. received]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var headers = text[..end];
                var body = text[(end + 4)..];
                var length = Regex.Match(headers, @"(?im)^Content-Length:\s*(\d+)");
                var done = length.Success ? Encoding.UTF8.GetByteCount(body) >= int.Parse(length.Groups[1].Value, CultureInfo.InvariantCulture)
                    : !headers.Contains("chunked", StringComparison.OrdinalIgnoreCase) || body.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
                if (done) return (int.Parse(headers.Split(' ')[1], CultureInfo.InvariantCulture), headers, body);
            }
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0) throw new IOException($"the server closed the connection after {received.Count} bytes: {text}");
            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    public static TheoryData<string, string> BadChunks()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in Endpoints)
        {
            data.Add(path, "ZZ\r\n{}\r\n0\r\n\r\n");                  // a chunk size that is not hex
            data.Add(path, "ffffffffffffffffff\r\n{}\r\n0\r\n\r\n");  // a chunk size that overflows
            data.Add(path, "2\r\n{}xx\r\n0\r\n\r\n");                 // a chunk longer than declared
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BadChunks))]
    public async Task A_malformed_chunked_body_gets_400_as_a_problem_on_every_endpoint(string path, string chunks)
    {
        var (status, headers, body) = await SendRawAsync(_server.Port, [.. Head(path, "Transfer-Encoding: chunked\r\n"), .. Encoding.ASCII.GetBytes(chunks)]);
        Assert.True(status == 400, $"{status}: {headers}\n{body}");
        Assert.Contains("Content-Type: application/problem+json", headers);
        Assert.Contains("chunk", body);
    }

    [Fact]
    public async Task A_body_that_stops_arriving_gets_408_as_a_problem_on_every_endpoint()
    {
        var responses = await Task.WhenAll(Endpoints.Select(path =>
            SendRawAsync(_server.Port, [.. Head(path, "Content-Length: 40\r\n"), .. "{\"prompt\":\"q\","u8.ToArray()])));   // then silence
        foreach (var (status, headers, body) in responses)
        {
            Assert.True(status == 408, $"{status}: {headers}\n{body}");
            Assert.Contains("Content-Type: application/problem+json", headers);
            Assert.Contains("arrived too slowly", body);
        }
    }

    [Theory]
    [InlineData("POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}", 400)]
    [InlineData("POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400)]
    [InlineData("POST /v1/score HTTP/1.7\r\nHost: x\r\n\r\n", 505)]
    [InlineData("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: BIG\r\n\r\n", 431)]
    public async Task Requests_Kestrel_refuses_before_the_application_get_their_status_with_an_empty_body(string request, int expected)
    {
        // Kestrel answers these itself (HttpProtocol.SetBadRequestState: Content-Length 0) without running any
        // middleware, so no problem+json body can be added: the README's reliability section says so.
        var (status, headers, body) = await SendRawAsync(_server.Port, Encoding.ASCII.GetBytes(request.Replace("BIG", new string('a', 40_000), StringComparison.Ordinal)));
        Assert.Equal(expected, status);
        Assert.Contains("Content-Length: 0", headers);
        Assert.Empty(body);
    }

    [Theory]
    [InlineData("{\"items\": [{\"prompt\": \"a\", \"response\": \"r\"}], \"items\": [{\"prompt\": \"b\", \"response\": \"r\"}]}", "items appears twice")]
    [InlineData("{\"items\": [{\"prompt\": \"a\", \"prompt\": \"b\", \"response\": \"r\"}]}", "items[0].prompt appears twice")]
    [InlineData("{\"items\": [{\"prompt\": \"p\\ud800\", \"response\": \"r\"}]}", "items[0].prompt holds a lone surrogate escape")]
    [InlineData("{\"items\": [{\"prompt\": 1, \"response\": \"r\"}]}", "items[0].prompt is the number 1; expected a string")]
    public async Task Hostile_JSON_gets_a_problem_naming_the_field_through_Kestrel_too(string body, string expected)
    {
        var response = await _server.Client.PostAsync("/v1/score", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains(expected, text);
    }

    [Fact]
    public async Task The_service_still_scores_after_the_hostile_requests()
    {
        var response = await _server.Client.PostAsJsonAsync("/v1/score", new { items = new[] { new { prompt = "p", response = "helpful" } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("m", (await TestServer.JsonOf(await _server.Client.GetAsync("/v1/models"))).GetProperty("models")[0].GetProperty("source").GetString());
    }
}
