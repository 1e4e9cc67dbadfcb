using System.Text.Json;
using RewardKit.Models;
using RewardKit.Tensors.Safetensors;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

/// <summary>Preemption: a run stopped anywhere (cancelled, or killed leaving temporaries behind) resumes bit-identically.</summary>
public sealed class TrainingRunTests : TrainingFolderTest
{
    static RewardTrainingOptions Options() =>
        TrainingTestData.Options(maxSteps: 6) with { SftSteps = 6, CheckpointEvery = 2, Dropout = 0.1f, GradientAccumulationSteps = 2 };

    static RewardTrainer Trainer(RewardTrainingOptions options, IProgress<TrainingProgress>? progress = null) =>
        new(options) { ConfigureModel = TrainingTestData.Tiny, Progress = progress };

    /// <summary>Asserts two finished runs wrote the same checkpoint, model weights and metrics (tokens/s aside).</summary>
    internal static void AssertSameRun(string expected, string actual)
    {
        var a = SafetensorsFile.ReadAllFloats(Path.Combine(expected, "checkpoint", "tensors.safetensors"));
        var b = SafetensorsFile.ReadAllFloats(Path.Combine(actual, "checkpoint", "tensors.safetensors"));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var name in a.Keys) Assert.True(a[name].Values.AsSpan().SequenceEqual(b[name].Values), $"checkpoint {name} differs");
        Assert.Equal(File.ReadAllBytes(Path.Combine(expected, "model", RewardModelFolder.WeightsFileName)),
            File.ReadAllBytes(Path.Combine(actual, "model", RewardModelFolder.WeightsFileName)));
        static string[] Rows(string run) => [.. File.ReadAllLines(Path.Combine(run, RewardTrainer.MetricsFileName))
            .Select(line => JsonSerializer.Deserialize<Dictionary<string, double>>(line)!)
            .Select(row => JsonSerializer.Serialize(row.Where(kv => kv.Key != "tokens_per_s").ToDictionary()))];
        Assert.Equal(Rows(expected), Rows(actual));
    }

    [NeedsOpsFact]
    public void A_run_cancelled_during_the_sft_warm_start_resumes_from_its_checkpoint_bit_identically()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 40);
        var straight = Path.Combine(dir, "straight");
        Trainer(Options()).Train(data, null, straight);

        using var cts = new CancellationTokenSource();
        var resumed = Path.Combine(dir, "resumed");
        var stopped = Trainer(Options(), new Collect(p => { if (p.Stage == TrainingStage.WarmStart && p.Step == 3) cts.Cancel(); }))
            .Train(data, null, resumed, cts.Token);
        Assert.True(stopped.Cancelled);
        var state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(Path.Combine(resumed, "checkpoint", "state.json")))!;
        Assert.Equal(3, state.WarmStart!.Step);
        var messages = new List<string>();
        var result = Trainer(Options() with { Resume = true }, new Collect(p => { if (p.Message is not null) messages.Add(p.Message); }))
            .Train(data, null, resumed);

        Assert.Contains(messages, m => m.Contains("continuing after step 3"));
        Assert.Equal(6, result.Losses.Count);
        AssertSameRun(straight, resumed);
        Assert.DoesNotContain("warm_start", File.ReadAllText(Path.Combine(resumed, "checkpoint", "state.json")));
    }

    [NeedsOpsFact]
    public void Resume_without_a_checkpoint_starts_from_the_beginning_and_says_so()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 40);
        var straight = Path.Combine(dir, "straight");
        Trainer(Options()).Train(data, null, straight);
        var messages = new List<string>();

        var result = Trainer(Options() with { Resume = true }, new Collect(p => { if (p.Message is not null) messages.Add(p.Message); }))
            .Train(data, null, Path.Combine(dir, "fresh"));

        Assert.Equal(6, result.Steps);
        Assert.Contains(messages, m => m.Contains("no checkpoint") && m.Contains("from the beginning"));
        AssertSameRun(straight, Path.Combine(dir, "fresh"));
    }

    [NeedsOpsFact]
    public void Temporaries_of_a_killed_run_are_removed_and_a_half_done_checkpoint_replacement_is_completed()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 40);
        var straight = Path.Combine(dir, "straight");
        Trainer(Options()).Train(data, null, straight);
        using var cts = new CancellationTokenSource();
        var run = Path.Combine(dir, "killed");
        new RewardTrainer(Options()) { ConfigureModel = TrainingTestData.Tiny, AfterStep = (step, _) => { if (step == 3) cts.Cancel(); } }
            .Train(data, null, run, cts.Token);
        // What kill -9 can leave: the old checkpoint moved aside and the finished new one not yet renamed in (here the same
        // checkpoint twice), a half-written checkpoint and model, and a half-written metrics rewrite.
        var checkpoint = Path.Combine(run, "checkpoint");
        Directory.Move(checkpoint, checkpoint + ".tmp-0000beef.old");
        CopyDirectory(checkpoint + ".tmp-0000beef.old", checkpoint + ".tmp-0000beef");
        Directory.CreateDirectory(checkpoint + ".tmp-12345678");
        File.WriteAllText(Path.Combine(checkpoint + ".tmp-12345678", "tensors.safetensors"), "partial");
        Directory.CreateDirectory(Path.Combine(run, "model.tmp-87654321"));
        File.WriteAllText(Path.Combine(run, RewardTrainer.MetricsFileName + ".0123abcd.tmp"), "{\"step\": 1");
        var messages = new List<string>();

        var result = Trainer(Options() with { Resume = true }, new Collect(p => { if (p.Message is not null) messages.Add(p.Message); }))
            .Train(data, null, run);

        Assert.Contains(messages, m => m.Contains("completed the checkpoint replacement"));
        Assert.Contains(messages, m => m.Contains("resumed from") && m.Contains("at step 3"));
        Assert.Equal(6, result.Steps);
        Assert.Equal(["checkpoint", "model"], Directory.GetDirectories(run).Select(Path.GetFileName).Order());
        Assert.Equal([RewardTrainer.MetricsFileName], Directory.GetFiles(run).Select(Path.GetFileName));
        AssertSameRun(straight, run);
    }

    [NeedsOpsFact]
    public void A_resumed_run_records_the_same_final_metrics_and_losses_as_an_uninterrupted_one()
    {
        var dir = NewFolder();
        var train = TrainingTestData.WritePairs(dir, "train.jsonl", 32);
        var eval = TrainingTestData.WritePairs(dir, "eval.jsonl", 16, seed: 2);
        var options = TrainingTestData.Options(maxSteps: 8) with { EvalEvery = 2 };
        var straight = Trainer(options).Train(train, eval, Path.Combine(dir, "straight"));
        using var cts = new CancellationTokenSource();
        new RewardTrainer(options) { ConfigureModel = TrainingTestData.Tiny, AfterStep = (step, _) => { if (step == straight.BestStep + 1) cts.Cancel(); } }
            .Train(train, eval, Path.Combine(dir, "resumed"), cts.Token);

        var resumed = Trainer(options with { Resume = true }).Train(train, eval, Path.Combine(dir, "resumed"));

        Assert.Equal(straight.Losses, resumed.Losses);
        Assert.Equal(straight.BestEvalMetrics, resumed.BestEvalMetrics);
        var a = RewardModelFolder.Load(straight.ModelDirectory!).Metadata.Extra!;
        var b = RewardModelFolder.Load(resumed.ModelDirectory!).Metadata.Extra!;
        Assert.Equal(a["final_eval_metrics"].GetRawText(), b["final_eval_metrics"].GetRawText());
        Assert.Equal(a["best_step"].GetInt64(), b["best_step"].GetInt64());
    }

    static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var sub in Directory.GetDirectories(from)) CopyDirectory(sub, Path.Combine(to, Path.GetFileName(sub)));
    }

    sealed class Collect(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
