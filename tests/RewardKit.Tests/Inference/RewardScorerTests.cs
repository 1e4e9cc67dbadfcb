using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tests.Inference;

public class RewardScorerTests
{
    static FakeRewardModel Model(double mean = 0, double std = 1, double? temperature = null) =>
        new(new RewardModelMetadata { Name = "fake", Version = "v", MaxLength = 64, RewardMean = mean, RewardStd = std, Temperature = temperature });

    [Fact]
    public void Normalised_and_calibrated_rewards_follow_the_metadata()
    {
        using var model = Model(mean: 0.5, std: 2, temperature: 3);
        var scorer = new RewardScorer(model);
        var score = scorer.Score("q", "a helpful answer");
        var raw = new float[1];
        model.ScoreTokens([model.Encode("q", "a helpful answer")], raw);
        Assert.Equal(raw[0], score.Raw, 6);
        Assert.Equal((raw[0] - 0.5) / 2, score.Normalized, 9);
        Assert.Equal(1 / (1 + Math.Exp(-(raw[0] - 0.5) / 3)), score.Calibrated, 9);
    }

    [Fact]
    public async Task Compare_gives_the_calibrated_probability_and_uses_temperature_one_when_uncalibrated()
    {
        using var calibrated = Model(temperature: 2);
        using var plain = Model();
        var c = await new RewardScorer(calibrated).CompareAsync("q", "helpful", "harmful");
        var p = await new RewardScorer(plain).CompareAsync("q", "helpful", "harmful");
        var delta = c.A.Raw - c.B.Raw;
        Assert.True(delta > 0);
        Assert.Equal(1 / (1 + Math.Exp(-delta / 2)), c.ProbabilityAPreferred, 9);
        Assert.Equal(1 / (1 + Math.Exp(-delta)), p.ProbabilityAPreferred, 9);
        Assert.Equal(1.0, p.Temperature);
    }

    [Fact]
    public async Task Ranking_orders_by_reward_and_Plackett_Luce_probabilities_are_a_softmax()
    {
        using var model = Model(temperature: 0.5);
        var scorer = new RewardScorer(model);
        string[] responses = ["meh", "helpful helpful", "harmful", "a helpful reply"];
        var ranked = await scorer.RankAsync("q", responses);
        Assert.Equal(responses.Length, ranked.Length);
        Assert.Equal(1.0, ranked.Sum(r => r.ProbabilityBest), 9);
        for (var i = 1; i < ranked.Length; i++) Assert.True(ranked[i - 1].Score.Raw >= ranked[i].Score.Raw);
        Assert.Equal(2, ranked[^1].Index);
        var top = ranked[0];
        var expected = 1 / ranked.Sum(r => Math.Exp((r.Score.Raw - top.Score.Raw) / 0.5));
        Assert.Equal(expected, top.ProbabilityBest, 9);
        var best = await scorer.BestOfNAsync("q", responses);
        Assert.Equal(top.Index, best.Index);
    }

    [Fact]
    public async Task A_non_finite_reward_is_refused_naming_the_item_and_is_not_cached()
    {
        using var model = Model();
        var scorer = new RewardScorer(model);
        var e = await Assert.ThrowsAsync<NonFiniteRewardException>(() => scorer.ScoreAsync([new("p", "fine"), new("p", "a nan-reward answer")]).AsTask());
        Assert.Equal(1, e.Index);
        Assert.True(float.IsNaN(e.Value));
        Assert.Contains("item 1", e.Message);
        Assert.Equal(0, scorer.Cache.Count);
        await Assert.ThrowsAsync<NonFiniteRewardException>(() => scorer.CompareAsync("p", "a", "nan-reward").AsTask());
        Assert.True(double.IsFinite(scorer.Score("p", "fine").Raw)); // the scorer still works for other inputs
    }

    [Fact]
    public void Cached_pairs_are_not_rescored()
    {
        using var model = Model();
        var scorer = new RewardScorer(model);
        var first = scorer.Score([new("p", "x y"), new("p", "z")]);
        var forwards = model.SequencesScored;
        var second = scorer.Score([new("p", "x y"), new("p", "z"), new("p", "new")]);
        Assert.Equal(forwards + 1, model.SequencesScored);
        Assert.Equal(first[0], second[0]);
        Assert.Equal(2, scorer.Cache.Hits);
        Assert.Equal(3, scorer.Cache.Misses);
    }

    [Fact]
    public void Batches_hold_at_most_the_batch_size_and_group_similar_lengths()
    {
        using var model = Model();
        var lengths = new List<int>();
        model.OnForward = batch => { lock (lengths) lengths.Add(batch.Max(s => s.Length) - batch.Min(s => s.Length)); };
        var scorer = new RewardScorer(model, new RewardScorerOptions { BatchSize = 4, CacheEntries = 0 });
        var items = Enumerable.Range(0, 16).Select(i => new ScoringItem("", string.Join(' ', Enumerable.Repeat("w", i % 2 == 0 ? 2 : 20)))).ToArray();
        var scores = scorer.Score(items);
        Assert.Equal(4, model.Forwards);
        Assert.Equal(4, model.MaxBatch);
        Assert.All(lengths, spread => Assert.Equal(0, spread)); // short and long never share a batch
        for (var i = 0; i < items.Length; i++) Assert.Equal(scores[i % 2].Raw, scores[i].Raw);
        Assert.NotEqual(scores[0].Raw, scores[1].Raw);
    }

    [Fact]
    public void Concurrent_scoring_gives_the_same_rewards_as_sequential_scoring()
    {
        using var model = Model();
        var scorer = new RewardScorer(model, new RewardScorerOptions { BatchSize = 3, CacheEntries = 50 });
        var items = Enumerable.Range(0, 200).Select(i => new ScoringItem($"p{i % 7}", $"r {i} helpful{i % 5}")).ToArray();
        var expected = new RewardScorer(model, new RewardScorerOptions { CacheEntries = 0 }).Score(items);
        var actual = new RewardScore[items.Length];
        Parallel.For(0, items.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => actual[i] = scorer.Score(items[i].Prompt, items[i].Response));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void A_null_response_is_refused_with_its_index()
    {
        using var model = Model();
        var e = Assert.Throws<ArgumentException>(() => new RewardScorer(model).Score([new("p", "ok"), new("p", null!)]));
        Assert.Contains("items[1].response", e.Message);
    }

    [Theory]
    [InlineData(0.0, null)]
    [InlineData(1.0, -1.0)]
    [InlineData(double.NaN, null)]
    public void Impossible_normalisation_or_temperature_in_the_metadata_is_refused(double std, double? temperature)
    {
        using var model = Model(std: std, temperature: temperature);
        var e = Assert.Throws<InvalidDataException>(() => new RewardScorer(model));
        Assert.Contains("rewardkit.json", e.Message);
    }

    [Fact]
    public void Cancellation_stops_scoring()
    {
        using var model = Model();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var scorer = new RewardScorer(model);
        Assert.ThrowsAny<OperationCanceledException>(() => scorer.Score([new("p", "r")], cts.Token));
    }

    [Fact]
    public void Probability_best_is_stable_for_huge_rewards()
    {
        var p = RewardScorer.ProbabilityBest([1000.0, 999.0, -1000.0], 1);
        Assert.Equal(1.0, p.Sum(), 12);
        Assert.Equal(1 / (1 + Math.Exp(-1)), p[0], 12);
        Assert.Equal(0.0, Activations.Sigmoid(-1000), 12);
        Assert.Equal(1.0, Activations.Sigmoid(1000), 12);
    }
}
