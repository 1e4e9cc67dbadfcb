using System.Net;
using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference.Registry;

namespace RewardKit.Server.Tests;

public class RegistrySwapTests
{
    [Fact]
    public async Task The_service_swaps_to_a_newly_promoted_version_without_failing_requests_and_refuses_a_bad_checksum()
    {
        using var temp = new TempDirectory();
        var registry = new ModelRegistry(temp["registry"]);
        registry.Push(FakeRewardModel.WriteFolder(temp["m1"], name: "rm", bias: 0));
        registry.Push(FakeRewardModel.WriteFolder(temp["m2"], name: "rm", bias: 100));
        registry.Push(FakeRewardModel.WriteFolder(temp["m3"], name: "rm", bias: -100));
        registry.Promote("rm", "v1");
        using var server = new TestServer(new() { ["RewardKit:Registry"] = temp["registry"], ["RewardKit:PollIntervalMs"] = "20" }, withModel: false);
        await server.WaitReadyAsync();

        // Requests keep flowing while the pointer moves.
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var sawNew = false;
        var load = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var response = await server.ScoreAsync(("p", $"answer {i}"));
                if (response.StatusCode != HttpStatusCode.OK) { Interlocked.Increment(ref failures); continue; }
                var reward = (await TestServer.JsonOf(response)).GetProperty("rewards")[0].GetDouble();
                if (reward > 50) sawNew = true;
            }
        });
        await Task.Delay(100);
        registry.Promote("rm", "v2");
        for (var i = 0; i < 500 && !sawNew; i++) await Task.Delay(10);
        Assert.True(sawNew, "the service never served v2");

        // A version damaged after promotion: the pointer moves but the service refuses it and keeps serving v2.
        File.AppendAllText(Path.Combine(temp["registry"], "rm", "v3", "model.safetensors"), "corrupt");
        var pointer = registry.PointerOf("rm")!;
        pointer.History.Add(pointer.Version);
        pointer.Version = "v3";
        AtomicFile.WriteAllText(registry.PointerPath("rm"), JsonSerializer.Serialize(pointer));
        JsonElement models = default;
        for (var i = 0; i < 500; i++)
        {
            models = await TestServer.JsonOf(await server.Client.GetAsync("/v1/models"));
            if (models.GetProperty("last_error").ValueKind == JsonValueKind.String) break;
            await Task.Delay(10);
        }
        await Task.Delay(100);
        stop.Cancel();
        await load;
        Assert.Equal(0, failures);
        Assert.Contains("checksum mismatch", models.GetProperty("last_error").GetString());
        Assert.Equal("v2", models.GetProperty("models")[0].GetProperty("registry_version").GetString());
        var reward = (await TestServer.JsonOf(await server.ScoreAsync(("p", "after")))).GetProperty("rewards")[0].GetDouble();
        Assert.True(reward > 50);

        // Rolling back to v1 (verified) is picked up as well, and the swapped-out models get disposed.
        // Rollback refuses to return to the damaged v3; with v3 dropped from the history it returns to v1.
        registry.Promote("rm", "v2");
        Assert.Throws<InvalidDataException>(() => registry.Rollback("rm"));
        AtomicFile.WriteAllText(registry.PointerPath("rm"), JsonSerializer.Serialize(new PromotionPointer { Version = "v2", History = ["v1"] }));
        registry.Rollback("rm");
        Assert.Equal("v1", registry.PointerOf("rm")!.Version);
        for (var i = 0; i < 500; i++)
        {
            if ((await TestServer.JsonOf(await server.ScoreAsync(("p", "rolled back")))).GetProperty("rewards")[0].GetDouble() < 50) break;
            await Task.Delay(10);
        }
        Assert.True((await TestServer.JsonOf(await server.ScoreAsync(("p", "rolled back 2")))).GetProperty("rewards")[0].GetDouble() < 50);
        for (var i = 0; i < 200 && !server.Models.First().Disposed; i++) await Task.Delay(10);
        Assert.True(server.Models.First().Disposed);
    }
}
