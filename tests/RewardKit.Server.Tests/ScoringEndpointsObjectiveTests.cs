using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.MultiObjective;

namespace RewardKit.Server.Tests;

/// <summary>POST /v1/score for a multi-objective model (per-objective rewards, per-request weights) and for an ensemble (std).</summary>
public class ScoringEndpointsObjectiveTests
{
    /// <summary>Two objectives over the fake model: "quality" is its reward, "length" the number of token ids.</summary>
    sealed class TwoObjectiveModel(FakeRewardModel inner, RewardObjectives objectives) : IObjectiveRewardModel
    {
        public RewardObjectives Objectives => objectives;
        public RewardModelMetadata Metadata => inner.Metadata;
        public int[] Encode(string prompt, string response) => inner.Encode(prompt, response);
        public void ScoreObjectives(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default)
        {
            var quality = new float[sequences.Count];
            inner.ScoreTokens(sequences, quality, cancellationToken);
            for (int i = 0; i < sequences.Count; i++) (rewards[2 * i], rewards[2 * i + 1]) = (quality[i], sequences[i].Length);
        }
        public void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default)
        {
            var outputs = new float[2 * sequences.Count];
            ScoreObjectives(sequences, outputs, cancellationToken);
            for (int i = 0; i < sequences.Count; i++) rewards[i] = objectives.Combine(outputs.AsSpan(2 * i, 2));
        }
        public IObjectiveRewardModel WithWeights(IReadOnlyList<double> weights) => new TwoObjectiveModel(inner, objectives.WithWeights(weights));
        public void Dispose() => inner.Dispose();
    }

    static TestServer Serving(Func<string, IRewardModel> load) =>
        new(services: s => s.AddSingleton<RewardModelLoader>(dir => load(dir)));

    static TestServer ServingObjectives() =>
        Serving(dir => new TwoObjectiveModel((FakeRewardModel)FakeRewardModel.Load(dir), RewardObjectives.Parse("quality,length", "1,0.5")));

    [Fact]
    public async Task A_multi_objective_model_answers_each_objective_and_the_weighted_sum_as_the_reward()
    {
        using var server = ServingObjectives();
        await server.WaitReadyAsync();
        var json = await TestServer.JsonOf(await server.ScoreAsync(("q", "a helpful answer"), ("q", "no")));

        var quality = json.GetProperty("objectives").GetProperty("quality");
        var length = json.GetProperty("objectives").GetProperty("length");
        Assert.Equal(5, length[0].GetDouble());   // the fake model's ids: q, separator, a, helpful, answer
        for (int i = 0; i < 2; i++)
            Assert.Equal(quality[i].GetDouble() + 0.5 * length[i].GetDouble(), json.GetProperty("rewards")[i].GetDouble(), 4);
        Assert.Equal([1, 0.5], json.GetProperty("objective_weights").EnumerateArray().Select(w => w.GetDouble()));
        Assert.False(json.TryGetProperty("std", out _));
    }

    [Fact]
    public async Task Objective_weights_in_the_request_recombine_the_objectives_for_that_request_only()
    {
        using var server = ServingObjectives();
        await server.WaitReadyAsync();
        var body = new { items = new[] { new { prompt = "q", response = "a helpful answer" } }, objective_weights = new[] { 0.0, 1.0 } };
        var json = await TestServer.JsonOf(await server.Client.PostAsJsonAsync("/v1/score", body));
        Assert.Equal(json.GetProperty("objectives").GetProperty("length")[0].GetDouble(), json.GetProperty("rewards")[0].GetDouble(), 5);
        Assert.Equal([0.0, 1.0], json.GetProperty("objective_weights").EnumerateArray().Select(w => w.GetDouble()));

        var after = await TestServer.JsonOf(await server.ScoreAsync(("q", "a helpful answer")));
        Assert.Equal([1, 0.5], after.GetProperty("objective_weights").EnumerateArray().Select(w => w.GetDouble()));
    }

    [Fact]
    public async Task Objective_weights_of_the_wrong_count_or_for_a_single_head_model_are_a_400_naming_the_field()
    {
        using (var server = ServingObjectives())
        {
            await server.WaitReadyAsync();
            var wrong = await server.Client.PostAsJsonAsync("/v1/score", new { items = new[] { new { prompt = "q", response = "r" } }, objective_weights = new[] { 1.0 } });
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Contains("objective_weights", await wrong.Content.ReadAsStringAsync());
        }
        using var single = new TestServer();
        await single.WaitReadyAsync();
        var refused = await single.Client.PostAsJsonAsync("/v1/score", new { items = new[] { new { prompt = "q", response = "r" } }, objective_weights = new[] { 1.0, 2.0 } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("one reward head", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_ensemble_answers_the_members_mean_and_their_standard_deviation_and_one_model_no_std()
    {
        using var server = Serving(dir =>
        {
            var a = (FakeRewardModel)FakeRewardModel.Load(dir);
            var shifted = new RewardModelMetadata { Name = "shifted", MaxLength = a.Metadata.MaxLength, Extra = new() { ["fake_bias"] = System.Text.Json.JsonSerializer.SerializeToElement(2.0) } };
            return new EnsembleRewardModel([a, new FakeRewardModel(shifted)], a.Metadata);
        });
        await server.WaitReadyAsync();
        var json = await TestServer.JsonOf(await server.ScoreAsync(("q", "a helpful answer"), ("q", "harmful")));

        var single = (FakeRewardModel)FakeRewardModel.Load(server.Temp("model"));
        var raw = new float[1];
        single.ScoreTokens([single.Encode("q", "a helpful answer")], raw);
        // members centred on their training means: r − 0.1 (the served folder's mean) and r + 2 (mean 0)
        Assert.Equal(raw[0] + 0.95, json.GetProperty("rewards")[0].GetDouble(), 4);
        Assert.Equal([1.05, 1.05], json.GetProperty("std").EnumerateArray().Select(s => Math.Round(s.GetDouble(), 4)));
        Assert.False(json.TryGetProperty("objectives", out _));

        using var plain = new TestServer();
        await plain.WaitReadyAsync();
        Assert.False((await TestServer.JsonOf(await plain.ScoreAsync(("q", "r")))).TryGetProperty("std", out _));
    }
}
