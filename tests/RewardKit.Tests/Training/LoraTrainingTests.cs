using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Models.Lora;
using RewardKit.Tensors;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

public sealed class LoraTrainingTests : TrainingFolderTest
{
    [Fact]
    public void Lora_training_lowers_the_loss_writes_an_adapter_folder_and_leaves_the_base_untouched()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 40);
        var baseRun = new RewardTrainer(TrainingTestData.Options(maxSteps: 2)) { ConfigureModel = TrainingTestData.Tiny }.Train(data, null, Path.Combine(dir, "base"));
        var baseWeights = Path.Combine(baseRun.ModelDirectory!, RewardModelFolder.WeightsFileName);
        var baseSha = RewardKit.Inference.Registry.RegistryManifest.HashFile(baseWeights);
        var options = TrainingTestData.Options(maxSteps: 30) with { Init = baseRun.ModelDirectory, LoraR = 4, LoraAlpha = 8, LearningRate = 1e-2 };

        var result = new RewardTrainer(options).Train(data, null, Path.Combine(dir, "lora"));

        double first = result.Losses.Take(3).Average(), last = result.Losses.TakeLast(3).Average();
        Assert.True(last < first * 0.7, $"loss went from {first:F4} to {last:F4}");
        Assert.True(LoraAdapterFolder.IsAdapter(result.ModelDirectory!));
        Assert.Equal(baseSha, RewardKit.Inference.Registry.RegistryManifest.HashFile(baseWeights));
        var (adapter, metadata) = LoraAdapterFolder.Load(result.ModelDirectory!);
        Assert.Equal(4, adapter.Settings.Rank);
        Assert.All(adapter.Layers, l => Assert.Contains(l.B.ToArray(), b => b != 0));   // every B moved off zero
        Assert.Equal(80, metadata.RewardHistogram!.Counts.Sum());

        // The one loader scores the adapter folder (merged over its base) as the adapted model computes it.
        using var scorer = ModelLoading.Load(result.ModelDirectory!);
        var ids = scorer.Encode("Tell me about tea, number 1.", "Sure, happy to help.");
        var rewards = new float[1];
        scorer.ScoreTokens([ids], rewards);
        var expected = adapter.Forward(new Tape { RecordsGradients = false }, TokenBatch.FromSequences([ids], 0)).ToScalar();
        Assert.InRange(rewards[0] - expected, -1e-5, 1e-5);
    }

    [Fact]
    public void Lora_without_init_or_with_a_backbone_is_refused_naming_the_option()
    {
        var noInit = Assert.Throws<ArgumentException>(() => (new RewardTrainingOptions { LoraR = 8 }).Validate());
        Assert.Contains("'init'", noInit.Message);
        Assert.Contains("--init", noInit.Message);

        var badTarget = Assert.Throws<ArgumentException>(() => (new RewardTrainingOptions { LoraR = 8, Init = "x", LoraTargets = "c_attn,wte" }).Validate());
        Assert.Contains("'lora_targets'", badTarget.Message);

        var negative = Assert.Throws<ArgumentException>(() => (new RewardTrainingOptions { LoraR = -1 }).Validate());
        Assert.Contains("'lora_r'", negative.Message);
    }

    [Fact]
    public void The_lora_options_are_train_flags_and_config_keys()
    {
        var keys = RewardTrainingOptions.Descriptors.ToDictionary(d => d.Key);
        Assert.Equal("--lora-r", keys["lora_r"].Flags[0]);
        Assert.Equal("--lora-alpha", keys["lora_alpha"].Flags[0]);
        Assert.Equal("--lora-dropout", keys["lora_dropout"].Flags[0]);
        Assert.Equal("--lora-targets", keys["lora_targets"].Flags[0]);
    }
}
