using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace RewardKit.Server.Tests;

/// <summary>
/// Seeded fuzzing of the scoring endpoints: valid bodies and hundreds of hostile mutations of them, through the in-memory
/// server and through a real Kestrel on loopback. Nothing may answer 500 or show a stack trace; every refusal is a
/// problem+json; every valid body still scores.
/// </summary>
public class HttpFuzzTests : IClassFixture<HttpFuzzTests.Fixture>, IClassFixture<KestrelHostileTests.Fixture>
{
    public sealed class Fixture : IDisposable
    {
        public TestServer Server { get; } = new(new() { ["RewardKit:MaxItems"] = "16", ["RewardKit:MaxTextLength"] = "2000" });
        public void Dispose() => Server.Dispose();
    }

    const int Seed = 2024;
    const int MutationsPerEndpoint = 60;
    static readonly HashSet<int> Expected = [200, 400, 404, 413, 415, 422];

    readonly TestServer _memory;
    readonly KestrelHostileTests.Fixture _kestrel;

    public HttpFuzzTests(Fixture memory, KestrelHostileTests.Fixture kestrel) => (_memory, _kestrel) = (memory.Server, kestrel);

    static List<(string Path, byte[] Body, bool Valid)> Corpus()
    {
        var fuzz = new HostileJson(Seed);
        var corpus = new List<(string, byte[], bool)>();
        foreach (var path in HostileJson.Endpoints)
        {
            for (var i = 0; i < 10; i++) corpus.Add((path, System.Text.Encoding.UTF8.GetBytes(fuzz.ValidBody(path)), true));
            for (var i = 0; i < MutationsPerEndpoint; i++) corpus.Add((path, fuzz.Mutate(fuzz.ValidBody(path)), false));
        }
        return corpus;
    }

    [Fact]
    public async Task Hundreds_of_mutated_bodies_get_a_problem_or_a_score_never_a_500_in_memory_and_through_Kestrel()
    {
        await _memory.WaitReadyAsync();
        var corpus = Corpus();
        Assert.True(corpus.Count(c => !c.Valid) >= 200);
        var statuses = new Dictionary<int, int>();
        var perTransport = new List<List<int>>();
        foreach (var client in new[] { _memory.Client, _kestrel.Client })
        {
            var answers = new List<int>();
            perTransport.Add(answers);
            foreach (var (path, body, valid) in corpus)
            {
                var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                var response = await client.PostAsync(path, content);
                var text = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                var what = $"{path} {status}: {System.Text.Encoding.UTF8.GetString(body)} -> {text}";
                Assert.True(Expected.Contains(status), what);
                Assert.DoesNotContain("   at ", text);           // no stack trace
                Assert.DoesNotContain("Exception", text);
                if (valid) Assert.True(status == 200, what);
                if (status != 200)
                {
                    Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", what);
                    Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString()), what);
                }
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                answers.Add(status);
            }
        }
        Assert.Equal(perTransport[0], perTransport[1]); // the in-memory server and Kestrel give every body the same answer
        Assert.True(statuses.GetValueOrDefault(400) > 100, string.Join(", ", statuses.Select(s => $"{s.Key}: {s.Value}")));
        Assert.True(statuses.GetValueOrDefault(200) > 2 * 40, string.Join(", ", statuses.Select(s => $"{s.Key}: {s.Value}"))); // some mutations stay valid
    }
}
