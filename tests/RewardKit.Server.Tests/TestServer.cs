using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RewardKit.IO;
using RewardKit.Inference;

namespace RewardKit.Server.Tests;

/// <summary>The service hosted in memory with the fake model; <see cref="Models"/> holds every model it loaded.</summary>
public sealed class TestServer : IDisposable
{
    public const string Key = "test-key-123";
    readonly TempDirectory _temp = new();
    readonly WebApplicationFactory<Program> _factory;

    public TestServer(Dictionary<string, string?>? settings = null, bool withModel = true, bool withKeys = false, Action<FakeRewardModel>? onLoad = null,
        Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?>();
        if (withModel) all["RewardKit:Model"] = FakeRewardModel.WriteFolder(_temp["model"], name: "fake", mean: 0.1, std: 0.5, temperature: 2,
            histogram: new RewardHistogram([-2, -1, 0, 1, 2], [10, 40, 40, 10]));
        if (withKeys)
        {
            File.WriteAllLines(_temp["keys.txt"], ["# sha256 of the keys", ApiKeys.Hash(Key), ""]);
            all["RewardKit:ApiKeys"] = _temp["keys.txt"];
        }
        foreach (var (k, v) in settings ?? []) all[k] = v;
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            foreach (var (k, v) in all) b.UseSetting(k, v);
            b.ConfigureServices(s => s.AddSingleton<RewardModelLoader>(dir =>
            {
                var model = (FakeRewardModel)FakeRewardModel.Load(dir);
                onLoad?.Invoke(model);
                Models.Enqueue(model);
                return model;
            }));
            if (services is not null) b.ConfigureServices(services);
        });
        Client = _factory.CreateClient();
        if (withKeys) Client.DefaultRequestHeaders.Authorization = new("Bearer", Key);
    }

    public ConcurrentQueue<FakeRewardModel> Models { get; } = new();
    public HttpClient Client { get; }
    public string Temp(string relative) => _temp[relative];

    public HttpClient NewClient() => _factory.CreateClient();

    public async Task WaitReadyAsync()
    {
        for (var i = 0; i < 500; i++)
        {
            if ((await Client.GetAsync("/readyz")).IsSuccessStatusCode) return;
            await Task.Delay(10);
        }
        throw new TimeoutException("the service did not become ready");
    }

    public static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    public Task<HttpResponseMessage> ScoreAsync(params (string Prompt, string Response)[] items) =>
        Client.PostAsJsonAsync("/v1/score", new { items = items.Select(i => new { prompt = i.Prompt, response = i.Response }) });

    public void Dispose()
    {
        Client.Dispose();
        _factory.Dispose();
        _temp.Dispose();
    }
}
