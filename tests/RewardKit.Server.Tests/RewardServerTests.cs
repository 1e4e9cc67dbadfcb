using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Server.Tests;

/// <summary>The service with its default (real GPT-2) loader.</summary>
public class RewardServerTests
{
    /// <summary>A small real model folder whose weights were edited after saving (its version no longer matches).</summary>
    static string EditedModel(TempDirectory temp)
    {
        var tokenizer = BpeTrainer.Train(Enumerable.Range(0, 20).Select(i => $"a prompt {i} and an answer {i}").ToList(), new BpeTrainerOptions { VocabSize = 300, MinFrequency = 1 });
        var config = new GptConfig { Layers = 1, EmbeddingSize = 16, Heads = 2, Positions = 32, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var folder = temp["edited"];
        RewardModelFolder.Save(GptRewardModel.Create(config, seed: 1), folder, new RewardModelMetadata { Template = "plain", MaxLength = 32 }, writeExtra: tokenizer.Save);
        var weights = Path.Combine(folder, RewardModelFolder.WeightsFileName);
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 1;
        File.WriteAllBytes(weights, bytes);
        return folder;
    }

    static async Task<HttpResponseMessage> ReadyAsync(string[] args)
    {
        await using var app = RewardServer.Build(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "None", .. args]);
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()) };
        var host = app.Services.GetRequiredService<ModelHost>();
        for (var i = 0; i < 3000 && host.Current is null && host.LastError is null; i++) await Task.Delay(10);
        var response = await client.GetAsync("/readyz");
        await response.Content.LoadIntoBufferAsync();
        client.Dispose(); // no idle keep-alive connection for the shutdown to wait on
        await app.StopAsync();
        return response;
    }

    [Fact]
    public async Task Edited_weights_are_refused_by_the_service_naming_both_hashes_unless_SkipVersionCheck_is_set()
    {
        using var temp = new TempDirectory();
        var folder = EditedModel(temp);
        var refused = await ReadyAsync(["--model", folder]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var detail = await refused.Content.ReadAsStringAsync();
        Assert.Contains(RewardModelMetadata.Load(folder).Version, detail);
        Assert.Contains("SkipVersionCheck", detail);
        Assert.DoesNotContain(temp.Path, detail); // the folder by name only

        var served = await ReadyAsync(["--model", folder, "--RewardKit:SkipVersionCheck", "true"]);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }
}
