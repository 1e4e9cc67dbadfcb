using RewardKit.IO;
using RewardKit.Models;
using RewardKit.Tensors.Safetensors;
using RewardKit.Tensors;
using RewardKit.Text;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

public sealed class RewardTrainerTests : TrainingFolderTest
{
    [NeedsOpsFact]
    public void Without_max_steps_training_runs_the_default_three_epochs()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 40);
        var options = TrainingTestData.Options(maxSteps: 0);
        Assert.Equal(3, new RewardTrainingOptions().Epochs);
        Assert.Equal(3, options.Epochs);
        var epochs = new List<double>();
        var trainer = new RewardTrainer(options) { ConfigureModel = TrainingTestData.Tiny, Metrics = row => { if (row.TryGetValue("epoch", out var e)) epochs.Add(e); } };

        var result = trainer.Train(data, null, Path.Combine(dir, "out"));

        Assert.Equal(3.0, epochs[^1], 6);
        Assert.True(epochs.Count(e => e <= 1.0) * 3 == result.Steps, $"{result.Steps} steps, {epochs.Count(e => e <= 1.0)} in the first epoch");
    }

    [NeedsOpsFact]
    public void Training_lowers_the_loss_and_changes_every_parameter()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 40);
        // Bradley-Terry sees only r_w − r_l, so a shift of every reward (ln_f.bias · score) gets exactly zero gradient;
        // a little reward centering anchors the level and gives every parameter a gradient.
        var trainer = new RewardTrainer(TrainingTestData.Options(maxSteps: 30) with { CenterRewardsCoefficient = 0.01 }) { ConfigureModel = TrainingTestData.Tiny };

        var result = trainer.Train(data, null, Path.Combine(dir, "out"));

        Assert.Equal(30, result.Steps);
        double first = result.Losses.Take(3).Average(), last = result.Losses.TakeLast(3).Average();
        Assert.True(last < first * 0.7, $"loss went from {first:F4} to {last:F4}");
        var (trained, metadata) = RewardModelFolder.Load(result.ModelDirectory!);
        var initial = new GptRewardModel(trained.Config, trained.Pooling);
        initial.Initialize(new Rng(trainer.Options.Seed));
        foreach (var e in trained.Parameters.Entries)
            Assert.False(e.Tensor.Data.SequenceEqual(initial.Parameters[e.Name].Data), $"{e.Name} did not change");
        Assert.Equal(RewardTrainer.HistogramBins, metadata.RewardHistogram!.Counts.Length);
        Assert.Equal(80, metadata.RewardHistogram.Counts.Sum());
        var lines = File.ReadAllLines(Path.Combine(dir, "out", RewardTrainer.MetricsFileName));
        Assert.Equal(30, lines.Length);
        Assert.Contains("\"grad_norm\"", lines[0]);
        Assert.Contains("\"learning_rate\"", lines[0]);
    }

    [NeedsOpsFact]
    public void Evaluation_rows_use_eval_names_and_the_best_model_is_kept()
    {
        var dir = NewFolder();
        var train = TrainingTestData.WritePairs(dir, "train.jsonl", 32);
        var eval = TrainingTestData.WritePairs(dir, "eval.jsonl", 16, seed: 2);
        var rows = new List<IReadOnlyDictionary<string, double>>();
        var trainer = new RewardTrainer(TrainingTestData.Options(maxSteps: 12) with { EvalEvery = 4 })
        {
            ConfigureModel = TrainingTestData.Tiny, Metrics = rows.Add,
        };

        var result = trainer.Train(train, eval, Path.Combine(dir, "out"));

        var evals = rows.Where(r => r.ContainsKey("eval_accuracy")).ToList();
        Assert.Equal([4.0, 8.0, 12.0], evals.Select(r => r["step"]));
        Assert.All(evals, r => Assert.True(r["eval_min_reward"] <= r["eval_mean_reward"] && r["eval_mean_reward"] <= r["eval_max_reward"]));
        var bestAccuracy = evals.Max(r => r["eval_accuracy"]);
        Assert.Equal(bestAccuracy, result.BestEvalMetrics["eval_accuracy"]);
        Assert.Equal(evals.First(r => r["eval_accuracy"] == bestAccuracy)["step"], result.BestStep);
    }

    [NeedsOpsTheory]
    [InlineData(0)]
    [InlineData(5)]
    public void Resuming_after_a_stop_gives_bit_identical_parameters(int sftSteps)
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 40);
        var options = TrainingTestData.Options(maxSteps: 8) with { GradientAccumulationSteps = 2, Dropout = 0.1f, Schedule = LearningRateDecay.Cosine, WarmupRatio = 0.25, SftSteps = sftSteps };

        new RewardTrainer(options) { ConfigureModel = TrainingTestData.Tiny }.Train(data, null, Path.Combine(dir, "straight"));

        using var cts = new CancellationTokenSource();
        var stopped = new RewardTrainer(options) { ConfigureModel = TrainingTestData.Tiny, AfterStep = (step, _) => { if (step == 4) cts.Cancel(); } }
            .Train(data, null, Path.Combine(dir, "resumed"), cts.Token);
        Assert.True(stopped.Cancelled);
        Assert.Equal(4, stopped.Steps);
        var resumed = new RewardTrainer(options with { Resume = true }) { ConfigureModel = TrainingTestData.Tiny }.Train(data, null, Path.Combine(dir, "resumed"));
        Assert.Equal(8, resumed.Steps);

        var a = SafetensorsFile.ReadAllFloats(Path.Combine(dir, "straight", "checkpoint", "tensors.safetensors"));
        var b = SafetensorsFile.ReadAllFloats(Path.Combine(dir, "resumed", "checkpoint", "tensors.safetensors"));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var name in a.Keys) Assert.True(a[name].Values.AsSpan().SequenceEqual(b[name].Values), $"{name} differs after resume");
        Assert.Equal(8 + sftSteps, File.ReadAllLines(Path.Combine(dir, "resumed", RewardTrainer.MetricsFileName)).Length); // the warm start ran once
    }

    [NeedsOpsFact]
    public void The_sft_warm_start_lowers_the_language_model_loss_before_reward_training_and_changes_the_start()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 40);
        var rows = new List<IReadOnlyDictionary<string, double>>();
        var stages = new List<TrainingStage>();
        var options = TrainingTestData.Options(maxSteps: 4) with { SftSteps = 25, SftLearningRate = 1e-2, SftBatchSize = 8 };
        var withSft = new RewardTrainer(options) { ConfigureModel = TrainingTestData.Tiny, Metrics = rows.Add, Progress = new Collect(stages) }
            .Train(data, null, Path.Combine(dir, "sft"));
        var without = new RewardTrainer(options with { SftSteps = 0 }) { ConfigureModel = TrainingTestData.Tiny }.Train(data, null, Path.Combine(dir, "plain"));

        var sft = rows.Where(r => r.ContainsKey("sft_loss")).ToList();
        Assert.Equal(Enumerable.Range(1, 25).Select(i => (double)i), sft.Select(r => r["sft_step"]));
        Assert.All(sft, r => Assert.Equal(0, r["step"]));
        Assert.True(sft.TakeLast(3).Average(r => r["sft_loss"]) < 0.8 * sft.Take(3).Average(r => r["sft_loss"]),
            $"SFT loss {sft[0]["sft_loss"]:F3} -> {sft[^1]["sft_loss"]:F3}");
        Assert.True(rows.IndexOf(sft[^1]) < rows.FindIndex(r => r.ContainsKey("loss")), "SFT rows come before the first reward step");
        Assert.Equal(25, stages.Count(s => s == TrainingStage.WarmStart));
        Assert.Equal(4, withSft.Steps);
        Assert.NotEqual(without.Losses[0], withSft.Losses[0]);   // the reward training starts from the warmed-up backbone
        Assert.Equal(25, RewardModelFolder.Load(withSft.ModelDirectory!).Metadata.Extra!["sft_steps"].GetInt64());
    }

    [Fact]
    public void Sft_steps_default_to_forty_percent_of_the_reward_steps_from_scratch_and_to_none_from_a_checkpoint()
    {
        Assert.Equal(1000, new RewardTrainingOptions().SftStepsFor(2500));
        Assert.Equal(0, new RewardTrainingOptions { Init = "gpt2" }.SftStepsFor(2500));
        Assert.Equal(7, new RewardTrainingOptions { Init = "gpt2", SftSteps = 7 }.SftStepsFor(2500));
        Assert.Equal(0, new RewardTrainingOptions { SftSteps = 0 }.SftStepsFor(2500));
        Assert.Contains("sft_steps", Assert.Throws<ArgumentException>(() => new RewardTrainingOptions { SftSteps = -1 }.Validate()).Message);
    }

    [Fact]
    public void Reward_statistics_use_every_pair_of_a_small_set_and_a_seeded_sample_of_a_large_one()
    {
        var sequence = new RewardKit.Text.EncodedSequence([1, 2, 3], 1, new RewardKit.Text.TruncationRecord(0, 0));
        var pairs = Enumerable.Range(0, 10_000).Select(i => new EncodedPair(sequence, sequence, i, 1)).ToArray();
        var small = pairs[..100];
        Assert.Same(small, RewardTrainer.StatisticsSample(small, 7));
        var a = RewardTrainer.StatisticsSample(pairs, 7);
        Assert.Equal(RewardTrainer.StatisticsPairs, a.Count);
        Assert.Equal(a.Count, a.Select(p => p.Margin).Distinct().Count());                   // without replacement
        Assert.Equal(a.Select(p => p.Margin).Order(), a.Select(p => p.Margin));              // in file order
        Assert.Equal(a, RewardTrainer.StatisticsSample(pairs, 7));                          // same seed, same sample
        Assert.NotEqual(a, RewardTrainer.StatisticsSample(pairs, 8));
        Assert.InRange(a.Average(p => p.Margin), 4_500, 5_500);                              // spread over the whole file
    }

    sealed class Collect(List<TrainingStage> stages) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => stages.Add(value.Stage);
    }

    [NeedsOpsFact]
    public void A_NaN_loss_stops_naming_the_step_and_the_last_good_checkpoint()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 24);
        var trainer = new RewardTrainer(TrainingTestData.Options(maxSteps: 10) with { CheckpointEvery = 2 })
        {
            ConfigureModel = TrainingTestData.Tiny,
            AfterStep = (step, model) => { if (step == 3) model.ScoreWeight.Data[0] = float.NaN; },
        };

        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Train(data, null, Path.Combine(dir, "out")));

        Assert.Equal(4, e.Step);
        Assert.Contains("step 4", e.Message);
        Assert.Contains("NaN", e.Message);
        Assert.Contains(Path.Combine(dir, "out", "checkpoint"), e.Message);
        Assert.Contains("(step 2)", e.Message);
    }

    [NeedsOpsFact]
    public void A_checkpoint_that_fails_midway_leaves_the_previous_one_whole()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 24);
        int saves = 0;
        var trainer = new RewardTrainer(TrainingTestData.Options(maxSteps: 6) with { CheckpointEvery = 2 })
        {
            ConfigureModel = TrainingTestData.Tiny,
            BeforeCheckpointRename = () => { if (++saves == 2) throw new IOException("disk full (simulated)"); },
        };

        Assert.Throws<IOException>(() => trainer.Train(data, null, Path.Combine(dir, "out")));

        var checkpoint = Path.Combine(dir, "out", "checkpoint");
        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(dir, "out")), d => d.Contains(".tmp-"));
        var state = System.Text.Json.JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(Path.Combine(checkpoint, "state.json")))!;
        Assert.Equal(2, state.Step);
        Assert.NotEmpty(SafetensorsFile.ReadAllFloats(Path.Combine(checkpoint, "tensors.safetensors"))["parameters"].Values);
    }

    [NeedsOpsFact]
    public void Early_stopping_ends_the_run_after_patience_evaluations_without_improvement()
    {
        var dir = NewFolder();
        var train = TrainingTestData.WritePairs(dir, "train.jsonl", 32);
        var eval = TrainingTestData.WritePairs(dir, "eval.jsonl", 16, seed: 2);
        var trainer = new RewardTrainer(TrainingTestData.Options(maxSteps: 60) with { EvalEvery = 2, Patience = 2 }) { ConfigureModel = TrainingTestData.Tiny };

        var result = trainer.Train(train, eval, Path.Combine(dir, "out"));

        Assert.True(result.StoppedEarly);
        Assert.Equal(result.BestStep + 2 * 2, result.Steps);
        var saved = RewardModelFolder.Load(result.ModelDirectory!).Metadata;
        Assert.Equal(result.BestStep, saved.Extra!["best_step"].GetInt64());
    }

    [NeedsOpsFact]
    public void Training_from_an_init_folder_starts_from_its_weights_and_tokenizer()
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 24);
        var first = new RewardTrainer(TrainingTestData.Options(maxSteps: 5)) { ConfigureModel = TrainingTestData.Tiny }.Train(data, null, Path.Combine(dir, "a"));

        var second = new RewardTrainer(TrainingTestData.Options(maxSteps: 1) with { Init = first.ModelDirectory, LearningRate = 1e-9, WeightDecay = 0 })
            .Train(data, null, Path.Combine(dir, "b"));

        var (a, _) = RewardModelFolder.Load(first.ModelDirectory!);
        var (b, _) = RewardModelFolder.Load(second.ModelDirectory!);
        Assert.Equal(a.Config, b.Config);
        for (int i = 0; i < a.Parameters.Count; i++) Assert.Equal(a.Parameters.Values[i], b.Parameters.Values[i], 1e-5f);
        Assert.Equal(File.ReadAllText(Path.Combine(first.ModelDirectory!, "tokenizer.json")), File.ReadAllText(Path.Combine(second.ModelDirectory!, "tokenizer.json")));
    }

    [NeedsOpsTheory]
    [InlineData(RewardLossKind.Contrastive)]
    [InlineData(RewardLossKind.Hinge)]
    [InlineData(RewardLossKind.Focal)]
    public void Every_loss_kind_trains(RewardLossKind loss)
    {
        var dir = NewFolder();
        var data = TrainingTestData.WritePairs(dir, "train.jsonl", 24);
        var result = new RewardTrainer(TrainingTestData.Options(maxSteps: 15) with { Loss = loss, L2 = 1e-4 }) { ConfigureModel = TrainingTestData.Tiny }
            .Train(data, null, Path.Combine(dir, "out"));
        Assert.True(result.Losses.TakeLast(3).Average() < result.Losses.Take(3).Average(), string.Join(", ", result.Losses.Select(l => l.ToString("F4"))));
        Assert.Equal(1.0, result.FinalTrainMetrics["accuracy"]);
    }

    [Fact]
    public void Startup_checks_count_truncations_duplicates_and_identical_pairs()
    {
        var dir = NewFolder();
        var path = TrainingTestData.WritePairs(dir, "train.jsonl", 10, longPromptWords: 60);
        File.AppendAllLines(path, [File.ReadLines(path).First()]);                   // a duplicate
        var (pairs, report) = TrainingData.Read(path, new RewardTrainingOptions(), default);
        pairs.Add(new Data.PreferencePair { Prompt = "Same?", Chosen = "Yes, same.", Rejected = "Yes, same." }); // chosen == rejected
        var (tokenizer, encoder) = Encoder(pairs, maxLength: 80, OverflowPolicy.Truncate);
        int longSequences = pairs.Sum(p => (Fits(tokenizer, p.Prompt, p.Chosen, 80) ? 0 : 1) + (Fits(tokenizer, p.Prompt, p.Rejected, 80) ? 0 : 1));

        var split = TrainingData.Encode("train", [new ReadFile(path, pairs, report)], encoder, default);

        var checks = Assert.Single(split.Checks);
        Assert.Equal(12, checks.PairsRead);
        Assert.Equal(1, checks.Duplicates);
        Assert.Equal(1, checks.ChosenEqualsRejected);
        Assert.Equal(11, checks.PairsKept);
        Assert.True(longSequences >= 10, $"the test data should have long prompts, found {longSequences}");
        Assert.Equal(longSequences, checks.PromptsTruncated);
        Assert.Equal(2 * checks.PairsKept, checks.PooledInsideResponse);
        Assert.True(checks.LongestSequence <= 80);
        Assert.Contains(checks.Lines(), l => l.Contains("(ok)"));
    }

    [Fact]
    public void Dropping_over_long_pairs_counts_them_with_the_reason()
    {
        var dir = NewFolder();
        var path = TrainingTestData.WritePairs(dir, "train.jsonl", 10, longPromptWords: 60);
        var (pairs, report) = TrainingData.Read(path, new RewardTrainingOptions(), default);
        var (tokenizer, encoder) = Encoder(pairs, maxLength: 80, OverflowPolicy.Drop);
        int longPairs = pairs.Count(p => !Fits(tokenizer, p.Prompt, p.Chosen, 80) || !Fits(tokenizer, p.Prompt, p.Rejected, 80));

        var split = TrainingData.Encode("train", [new ReadFile(path, pairs, report)], encoder, default);

        var checks = Assert.Single(split.Checks);
        var dropped = Assert.Single(checks.Dropped);
        Assert.Contains("max_length", dropped.Key);
        Assert.Equal(longPairs, dropped.Value);
        Assert.Equal(10 - longPairs, checks.PairsKept);
    }

    static (ByteLevelBpeTokenizer, SequenceEncoder) Encoder(IReadOnlyList<Data.PreferencePair> pairs, int maxLength, OverflowPolicy overflow)
    {
        var tokenizer = BpeTrainer.Train(TrainingData.Texts(pairs, PromptTemplate.Plain), new BpeTrainerOptions { VocabSize = 300 });
        return (tokenizer, new SequenceEncoder(tokenizer, new SequenceOptions { MaxLength = maxLength, OnOverflow = overflow }, PromptTemplate.Plain));
    }

    static bool Fits(ByteLevelBpeTokenizer tokenizer, string prompt, string response, int maxLength)
    {
        var text = PromptTemplate.Plain.Render(prompt, response);
        return tokenizer.Encode(text.Prompt).Length + tokenizer.Encode(text.Response).Length <= maxLength;
    }

    [Fact]
    public void The_template_is_hh_for_hh_transcripts_and_plain_otherwise()
    {
        var hh = new Data.PreferencePair { Prompt = "\n\nHuman: hi\n\nAssistant:", Chosen = " hello", Rejected = " go away" };
        var plain = new Data.PreferencePair { Prompt = "hi", Chosen = "hello", Rejected = "go away" };
        Assert.Equal("hh", TrainingData.ChooseTemplate(new RewardTrainingOptions(), [plain, hh]));
        Assert.Equal("plain", TrainingData.ChooseTemplate(new RewardTrainingOptions(), [plain]));
        Assert.Equal("plain", TrainingData.ChooseTemplate(new RewardTrainingOptions { Template = "plain" }, [hh]));
    }

    [Fact]
    public void Bad_records_stop_the_run_with_the_readers_message_unless_skipped()
    {
        var dir = NewFolder();
        var path = TrainingTestData.WritePairs(dir, "train.jsonl", 4);
        File.AppendAllLines(path, ["""{"prompt": "x", "chosen": "y"}"""]);
        var e = Assert.Throws<InvalidDataException>(() => new RewardTrainer(new RewardTrainingOptions()).Train(path, null, Path.Combine(dir, "out")));
        Assert.Contains("train.jsonl:5", e.Message);
        var (pairs, report) = TrainingData.Read(path, new RewardTrainingOptions { SkipInvalid = true }, default);
        Assert.Equal(4, pairs.Count);
        Assert.Equal(1, report.SkippedCount);
    }

    [Fact]
    public void Several_files_encode_in_order_with_checks_per_file_and_cross_file_duplicates()
    {
        var dir = NewFolder();
        var first = TrainingTestData.WritePairs(dir, "pairs.jsonl", 6);
        var second = Path.Combine(dir, "rankings.jsonl");
        var repeated = System.Text.Json.JsonDocument.Parse(File.ReadLines(first).First()).RootElement;
        File.WriteAllLines(second,
        [
            """{"prompt": "Tell me about tea.", "responses": ["Tea is a drink made from leaves.", "No.", "Whatever."], "ranks": [0, 2, 1]}""",
            System.Text.Json.JsonSerializer.Serialize(new                                  // implies the first file's first pair again
            {
                prompt = repeated.GetProperty("prompt").GetString(),
                responses = new[] { repeated.GetProperty("rejected").GetString(), repeated.GetProperty("chosen").GetString() },
                ranks = new[] { 1, 0 },
            }),
        ]);
        var files = new[] { first, second }.Select(path =>
        {
            var (pairs, report) = TrainingData.Read(path, new RewardTrainingOptions(), default);
            return new ReadFile(path, pairs, report);
        }).ToArray();
        var (_, encoder) = Encoder([.. files.SelectMany(f => f.Pairs)], maxLength: 80, OverflowPolicy.Truncate);

        var split = TrainingData.Encode("train", files, encoder, default);

        Assert.Equal(2, split.Checks.Count);
        Assert.Equal((first, 6L, 6L, 0L), (split.Checks[0].File, split.Checks[0].PairsRead, split.Checks[0].PairsKept, split.Checks[0].Duplicates));
        Assert.Equal((second, 4L, 4L, 1L), (split.Checks[1].File, split.Checks[1].PairsRead, split.Checks[1].PairsKept, split.Checks[1].Duplicates)); // 3 ranking pairs + the repeat
        Assert.Equal(10, split.Pairs.Count);
        Assert.Equal(split.Pairs[0].Chosen.Ids, split.Pairs[^1].Chosen.Ids);   // file order kept: the repeat comes last
        Assert.Equal(split.Sha256, TrainingData.Sha256([first, second]));
        Assert.NotEqual(TrainingData.Sha256([first, second]), TrainingData.Sha256([second, first]));
        Assert.NotEqual(TrainingData.Sha256([first]), TrainingData.Sha256([first, second]));
        using var sha = System.Security.Cryptography.SHA256.Create();
        Assert.Equal(Convert.ToHexStringLower(sha.ComputeHash(File.ReadAllBytes(first))), TrainingData.Sha256([first]));   // one file: its own digest, as before
    }

    [NeedsOpsFact]
    public void Training_on_several_files_records_them_and_a_resume_needs_the_same_files()
    {
        var dir = NewFolder();
        var pairs = TrainingTestData.WritePairs(dir, "pairs.jsonl", 16);
        var more = TrainingTestData.WritePairs(dir, "more.jsonl", 16, seed: 2);
        var options = TrainingTestData.Options(maxSteps: 4);

        var result = new RewardTrainer(options) { ConfigureModel = TrainingTestData.Tiny }.Train([pairs, more], null, Path.Combine(dir, "out"));

        Assert.Equal(2, result.Checks.Count);
        Assert.Equal(32, result.Checks.Sum(c => c.PairsKept));
        var (_, metadata) = RewardModelFolder.Load(result.ModelDirectory!);
        Assert.Equal(["pairs.jsonl", "more.jsonl"], metadata.Extra!["train_data_files"].EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(TrainingData.Sha256([pairs, more]), metadata.Extra["train_data_sha256"].GetString());
        var e = Assert.Throws<InvalidDataException>(() =>
            new RewardTrainer(options with { Resume = true }) { ConfigureModel = TrainingTestData.Tiny }.Train([more, pairs], null, Path.Combine(dir, "out")));
        Assert.Contains("same files in the same order", e.Message);
    }
}
