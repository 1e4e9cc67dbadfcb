using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Models.Bert;
using RewardKit.Tensors;
using RewardKit.Tensors.Safetensors;
using RewardKit.Text;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

/// <summary>BERT fine-tuning through the one training loop (<see cref="RewardTrainer"/> with a backbone option).</summary>
public class BertRewardTrainerTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "bert-trainer-" + Guid.NewGuid().ToString("N"));

    public BertRewardTrainerTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    string TinyBackbone() => TrainingTestData.TinyBertBackbone(_dir);

    [Fact]
    public void Fine_tuning_lowers_the_loss_and_the_saved_folder_scores_through_the_default_loader()
    {
        var backbone = TinyBackbone();
        var train = TrainingTestData.WritePairs(_dir, "train.jsonl", 64);
        var eval = TrainingTestData.WritePairs(_dir, "eval.jsonl", 16, seed: 2);
        var options = TrainingTestData.Options(maxSteps: 40) with { Backbone = backbone, Dropout = 0 };
        var result = new RewardTrainer(options).Train([train], eval, Path.Combine(_dir, "run"));

        Assert.Equal(40, result.Steps);
        Assert.True(result.Losses.TakeLast(5).Average() < result.Losses.Take(5).Average() - 0.1,
            $"loss did not fall: first {result.Losses.Take(5).Average():F3}, last {result.Losses.TakeLast(5).Average():F3}");
        Assert.True(result.BestEvalMetrics["eval_accuracy"] > 0.9);
        Assert.Equal(2 * 64, result.Checks[0].PooledInsideResponse);

        using var scorer = ModelLoading.Load(result.ModelDirectory!);
        Assert.IsType<BertRewardScorer>(scorer);
        var good = scorer.Encode("Tell me about tea, number 3.", "Sure, happy to help: here is a clear answer about tea. Thank you for asking!");
        var bad = scorer.Encode("Tell me about tea, number 3.", "Whatever, tea is boring.");
        var rewards = new float[2];
        scorer.ScoreTokens([good, bad], rewards);
        Assert.True(rewards[0] > rewards[1]);
        Assert.Equal("bert-cross-encoder", scorer.Metadata.Extra!["architecture"].GetString());
    }

    [Fact]
    public void Resuming_a_stopped_backbone_run_gives_the_weights_of_an_uninterrupted_one()
    {
        var backbone = TinyBackbone();
        var train = TrainingTestData.WritePairs(_dir, "train.jsonl", 40);
        var options = TrainingTestData.Options(maxSteps: 8) with { Backbone = backbone, Dropout = 0.1f, GradientAccumulationSteps = 2, WarmupRatio = 0.25 };
        new RewardTrainer(options).Train([train], null, Path.Combine(_dir, "straight"));

        using var cts = new CancellationTokenSource();
        var stopAtStep4 = new StopAt(TrainingStage.Training, 4, cts);
        var stopped = new RewardTrainer(options) { Progress = stopAtStep4 }.Train([train], null, Path.Combine(_dir, "resumed"), cts.Token);
        Assert.True(stopped.Cancelled);
        Assert.Equal(4, stopped.Steps);
        var resumed = new RewardTrainer(options with { Resume = true }).Train([train], null, Path.Combine(_dir, "resumed"));
        Assert.Equal(8, resumed.Steps);

        var a = SafetensorsFile.ReadAllFloats(Path.Combine(_dir, "straight", "checkpoint", "tensors.safetensors"));
        var b = SafetensorsFile.ReadAllFloats(Path.Combine(_dir, "resumed", "checkpoint", "tensors.safetensors"));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var name in a.Keys) Assert.True(a[name].Values.AsSpan().SequenceEqual(b[name].Values), $"{name} differs after resume");
        var straightModel = SafetensorsFile.ReadAllFloats(Path.Combine(_dir, "straight", "model", RewardModelFolder.WeightsFileName));
        var resumedModel = SafetensorsFile.ReadAllFloats(Path.Combine(_dir, "resumed", "model", RewardModelFolder.WeightsFileName));
        foreach (var name in straightModel.Keys) Assert.True(straightModel[name].Values.AsSpan().SequenceEqual(resumedModel[name].Values), $"saved {name} differs after resume");
        Assert.Equal(8, File.ReadAllLines(Path.Combine(_dir, "resumed", RewardTrainer.MetricsFileName)).Length);
    }

    /// <summary>Cancels when the run reports <paramref name="step"/> of <paramref name="stage"/> (as Ctrl+C would after it).</summary>
    sealed class StopAt(TrainingStage stage, long step, CancellationTokenSource cts) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Stage == stage && value.Step == step) cts.Cancel();
        }
    }
}
