using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

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

    [Fact]
    public async Task The_benchmark_runs_without_errors_and_micro_batching_shares_forward_passes()
    {
        using var temp = new TempDirectory();
        var model = FakeRewardModel.WriteFolder(temp["m"], forwardMs: 2);
        var batched = await ServeBenchmark.RunAsync(new ServeBenchmarkOptions { Model = model, Requests = 200, Concurrency = 16, MaxWarmupSeconds = 1 }, FakeRewardModel.Load);
        var single = await ServeBenchmark.RunAsync(new ServeBenchmarkOptions { Model = model, Requests = 200, Concurrency = 16, MicroBatching = false, MaxWarmupSeconds = 0 }, FakeRewardModel.Load);
        Assert.Equal(0, batched.Errors);
        Assert.Equal(0, single.Errors);
        Assert.Equal(1.0, single.MeanBatchSequences);
        Assert.True(batched.MeanBatchSequences > 2, $"mean batch {batched.MeanBatchSequences}");
        Assert.True(batched.P50Ms <= batched.P99Ms);
        Assert.Equal(16, single.WarmupRequests); // one round when the warm-up limit is 0
        Assert.InRange(batched.WarmupRequests, 16, 16 * 1000);
        Assert.True(batched.ProcessCpuSeconds > 0);
        // The fake forward pass sleeps: it takes wall time but next to no CPU.
        Assert.True(single.ForwardCpuSeconds < single.ForwardSeconds, $"forward CPU {single.ForwardCpuSeconds} s, wall {single.ForwardSeconds} s");
    }
}
