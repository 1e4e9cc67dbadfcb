using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Models.Ensemble;
using RewardKit.Text;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

public sealed class EnsembleTrainingTests : TrainingFolderTest
{
    [NeedsOpsFact]
    public void Train_with_ensemble_writes_members_of_different_seeds_and_one_folder_the_loader_opens_with_a_spread()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 24);
        var options = TrainingTestData.Options(maxSteps: 6) with { Ensemble = 2 };

        var result = new RewardTrainer(options) { ConfigureModel = TrainingTestData.Tiny }.Train(data, null, Path.Combine(dir, "out"));

        Assert.Equal(Path.Combine(dir, "out", "model"), result.ModelDirectory);
        var metadata = RewardModelMetadata.Load(result.ModelDirectory!);
        Assert.True(EnsembleFolder.Is(metadata));
        Assert.Equal([7UL, 8UL], metadata.Extra![EnsembleFolder.SeedsKey].EnumerateArray().Select(e => e.GetUInt64()));
        Assert.True(File.Exists(Path.Combine(dir, "out", "members", "member-1", "metrics.jsonl")));
        var (first, _) = RewardModelFolder.Load(Path.Combine(result.ModelDirectory!, "member-0"));
        var (second, _) = RewardModelFolder.Load(Path.Combine(result.ModelDirectory!, "member-1"));
        Assert.NotEqual(first.Parameters.Values.ToArray(), second.Parameters.Values.ToArray());

        using var model = ModelLoading.Load(result.ModelDirectory!);
        var ensemble = Assert.IsType<EnsembleRewardModel>(model);
        Assert.Equal(2, ensemble.Members);
        var (_, std) = EnsembleStatistics.Score(ensemble, [ensemble.Encode("Tell me about tea.", "Sure, happy to help!")]);
        Assert.True(std[0] > 0, "members trained with other seeds on other resamples give different rewards");
    }

    [Fact]
    public void A_bootstrap_resample_draws_as_many_pairs_with_replacement_the_same_for_the_same_seed()
    {
        var pairs = Enumerable.Range(0, 50).Select(i => new EncodedPair(new([i], 0, default), new([i + 100], 0, default), 0, 1)).ToList();
        var split = new EncodedSplit(pairs, [], "sha");

        var a = EnsembleTraining.Resample(split, 1);
        var b = EnsembleTraining.Resample(split, 1);
        var c = EnsembleTraining.Resample(split, 2);

        Assert.Equal(50, a.Pairs.Count);
        Assert.Equal(a.Pairs, b.Pairs);
        Assert.NotEqual(a.Pairs, c.Pairs);
        Assert.True(a.Pairs.Distinct().Count() < 50, "drawn with replacement: some pairs repeat");
        Assert.All(a.Pairs, p => Assert.Contains(p, pairs));
    }

    [Fact]
    public void An_ensemble_of_zero_or_too_many_members_is_refused_naming_the_option()
    {
        var e = Assert.Throws<ArgumentException>(() => new RewardTrainingOptions { Ensemble = 0 }.Validate());
        Assert.Contains("'ensemble'", e.Message);
        Assert.Throws<ArgumentException>(() => new RewardTrainingOptions { Ensemble = 65 }.Validate());
        Assert.Equal("--ensemble", RewardTrainingOptions.Descriptors.Single(d => d.Key == "ensemble").Flags[0]);
    }
}
