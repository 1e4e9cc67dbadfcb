using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.Ensemble;
using RewardKit.Testing;

namespace RewardKit.Tests.Inference;

/// <summary>A reward model computing its reward from the token ids with a function (ensemble tests).</summary>
sealed class FunctionRewardModel(Func<int[], float> reward, double mean = 0, int maxLength = 64) : IRewardModel
{
    public RewardModelMetadata Metadata { get; } = new() { Name = "function", RewardMean = mean, MaxLength = maxLength };
    public int[] Encode(string prompt, string response) => [.. (prompt + "|" + response).Select(c => (int)c)];
    public void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < sequences.Count; i++) rewards[i] = reward(sequences[i]);
    }
    public void Dispose() { }
}

public sealed class EnsembleRewardModelTests
{
    static EnsembleRewardModel TwoMembers() => new(
        [new FunctionRewardModel(s => s.Length), new FunctionRewardModel(s => 2 * s.Length, mean: 1)],
        new RewardModelMetadata { Name = "ensemble" });

    [Fact]
    public void The_reward_is_the_mean_of_the_members_centred_on_their_training_means_and_std_is_their_spread()
    {
        using var ensemble = TwoMembers();
        var ids = ensemble.Encode("ab", "cde");   // 6 ids: members give 6 and 2·6 − 1 = 11 after centring
        var rewards = new float[1];
        var std = new float[1];

        ensemble.ScoreWithStd([ids], rewards, std);

        Assert.Equal(8.5f, rewards[0], 5);
        Assert.Equal(2.5f, std[0], 5);
        var members = new float[2];
        ensemble.ScoreMembers([ids], members);
        Assert.Equal([6f, 11f], members);
    }

    [Fact]
    public void A_conservative_view_scores_mean_minus_k_sigma_and_leaves_the_original_as_it_was()
    {
        using var ensemble = TwoMembers();
        var ids = ensemble.Encode("ab", "cde");
        var conservative = ensemble.WithConservativeWeight(2);
        var rewards = new float[1];

        conservative.ScoreTokens([ids], rewards);
        Assert.Equal(8.5f - 2 * 2.5f, rewards[0], 5);
        ensemble.ScoreTokens([ids], rewards);
        Assert.Equal(8.5f, rewards[0], 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => ensemble.WithConservativeWeight(-1));
    }

    [Fact]
    public void A_constant_offset_between_members_is_no_disagreement_about_a_pair_which_is_the_spread_of_their_preference_probabilities()
    {
        var (_, disagreement) = EnsembleStatistics.PairDisagreement([1f, 5f, 9f], [0f, 4f, 8f]);
        Assert.Equal(0, disagreement, 6);
        var (difference, spread) = EnsembleStatistics.PairDisagreement([1f, 3f], [0f, 0f]);
        Assert.Equal(2, difference, 6);
        Assert.Equal((1 / (1 + Math.Exp(-3)) - 1 / (1 + Math.Exp(-1))) / 2, spread, 5);   // half the gap of the members' P(a ≻ b)
    }

    [Fact]
    public void An_ensemble_folder_loads_its_members_through_the_loader_and_checks_their_versions()
    {
        using var temp = new TempDirectory();
        var a = FakeRewardModel.WriteFolder(temp["a"], name: "a", bias: 1, mean: 1);
        var b = FakeRewardModel.WriteFolder(temp["b"], name: "b", bias: 3, mean: 3);
        EnsembleFolder.Save([a, b], [1, 2], temp["ensemble"], new RewardModelMetadata { Name = "ensemble", MaxLength = 64 });

        using (var ensemble = EnsembleRewardModel.Load(temp["ensemble"], FakeRewardModel.Load))
        {
            Assert.Equal(2, ensemble.Members);
            var (mean, std) = EnsembleStatistics.Score(ensemble, [ensemble.Encode("p", "a helpful answer")]);
            Assert.Equal(0, std[0], 5);   // the biases equal the training means: centred, the members agree
            Assert.True(mean[0] > 0);
        }

        var member = RewardModelMetadata.Load(temp["ensemble/member-1"]);
        member.Version = "0000";
        member.Save(temp["ensemble/member-1"]);
        var changed = Assert.Throws<InvalidDataException>(() => EnsembleRewardModel.Load(temp["ensemble"], FakeRewardModel.Load));
        Assert.Contains("--skip-version-check", changed.Message);
        using var anyway = EnsembleRewardModel.Load(temp["ensemble"], FakeRewardModel.Load, verifyVersion: false);
        Assert.Equal(2, anyway.Members);
    }

    [Fact]
    public void Members_that_encode_text_differently_are_refused_naming_the_member()
    {
        using var temp = new TempDirectory();
        var a = FakeRewardModel.WriteFolder(temp["a"], name: "a");
        var b = FakeRewardModel.WriteFolder(temp["b"], name: "b");
        EnsembleFolder.Save([a, b], [1, 2], temp["ensemble"], new RewardModelMetadata { Name = "ensemble" });
        var member = RewardModelMetadata.Load(temp["ensemble/member-1"]);
        member.MaxLength = 8;
        member.Save(temp["ensemble/member-1"]);

        var e = Assert.Throws<InvalidDataException>(() => EnsembleRewardModel.Load(temp["ensemble"], FakeRewardModel.Load, verifyVersion: false));
        Assert.Contains("member-1", e.Message);
        Assert.Contains("encodes text differently", e.Message);
    }
}
