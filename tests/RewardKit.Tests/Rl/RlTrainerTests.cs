using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Rl;
using RewardKit.Tensors.Kernels;
using RewardKit.Testing;
using RewardKit.Tests.Generation;
using RewardKit.Training;

namespace RewardKit.Tests.Rl;

/// <summary>The RL loop on a tiny random policy and a word-weight reward model: seconds per test.</summary>
public sealed class RlTrainerTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-rl-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    static readonly string[] Prompts = [.. PolicyTestData.Topics.Select(t => $"Tell me about {t}.")];

    static RlOptions Options(RlAlgorithm algorithm, int steps = 3) => new()
    {
        Algorithm = algorithm, MaxSteps = steps, PromptsPerStep = 2, SamplesPerPrompt = 2, MaxNewTokens = 6, LearningRate = 1e-3,
        MiniBatches = 2, Epochs = algorithm == RlAlgorithm.Ppo ? 2 : null, Threads = 1, Seed = 5,
    };

    static RlTrainer Trainer(Policy policy, RlOptions options, WorkerPool pool)
    {
        var rewards = new RlRewards([new RewardScorer(new FakeRewardModel(new RewardModelMetadata { MaxLength = 64 }))], options);
        return new RlTrainer(policy, rewards, options.UsesCritic ? RlTrainer.CriticFor(policy, null) : null, options, pool);
    }

    (RlTrainer Trainer, Policy Policy, RlRunResult Result) Run(RlOptions options, string name, bool resume = false, Policy? policy = null)
    {
        policy ??= PolicyTestData.Create();
        var trainer = Trainer(policy, options, WorkerPool.Single);
        var result = trainer.Train(Prompts, Prompts[..2], Path.Combine(_dir, name), resume);
        return (trainer, policy, result);
    }

    [Theory]
    [InlineData(RlAlgorithm.Ppo)]
    [InlineData(RlAlgorithm.Reinforce)]
    [InlineData(RlAlgorithm.Rloo)]
    [InlineData(RlAlgorithm.Trpo)]
    public void Each_algorithm_runs_changes_the_policy_and_logs_trl_metric_names(RlAlgorithm algorithm)
    {
        var policy = PolicyTestData.Create();
        var before = policy.Model.Parameters.Values.ToArray();
        var (trainer, _, result) = Run(Options(algorithm), algorithm.ToString(), policy: policy);
        Assert.Equal(3, result.Steps);
        var rows = trainer.Metrics.Where(r => r.ContainsKey("objective/kl")).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, row => Assert.All(RlTrainer.MetricNames, name => Assert.True(row.ContainsKey(name) && double.IsFinite(row[name]), $"{algorithm}: {name}")));
        Assert.False(before.AsSpan().SequenceEqual(policy.Model.Parameters.Values), $"{algorithm} did not change the policy");
        Assert.True(File.Exists(Path.Combine(_dir, algorithm.ToString(), "policy", "model.safetensors")));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(_dir, algorithm.ToString(), "metrics.jsonl")).Length);   // 3 steps + the final evaluation
    }

    [Fact]
    public void Trpo_with_the_fisher_on_every_second_row_still_keeps_each_accepted_step_inside_the_trust_region()
    {
        var options = Options(RlAlgorithm.Trpo) with { TrpoFisherEvery = 2, TrpoMaxKl = 0.005 };
        var policy = PolicyTestData.Create();
        var before = policy.Model.Parameters.Values.ToArray();
        var (trainer, _, _) = Run(options, "trpo-sub", policy: policy);
        var rows = trainer.Metrics.Where(r => r.ContainsKey("objective/kl")).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, row => Assert.InRange(row["policy/approxkl_avg"], 0, options.TrpoMaxKl));   // the exact KL on every row
        Assert.False(before.AsSpan().SequenceEqual(policy.Model.Parameters.Values), "no TRPO step was accepted");
        Assert.Throws<ArgumentException>(() => (options with { TrpoFisherEvery = 0 }).Validate());
    }

    [Theory]
    [InlineData(RlAlgorithm.Ppo)]
    [InlineData(RlAlgorithm.Reinforce)]
    public void Resuming_after_a_stop_gives_the_weights_of_an_uninterrupted_run(RlAlgorithm algorithm)
    {
        var (_, whole, _) = Run(Options(algorithm, steps: 4), "whole");
        Run(Options(algorithm, steps: 2), "split");
        var (_, resumed, _) = Run(Options(algorithm, steps: 4), "split", resume: true);
        Assert.True(whole.Model.Parameters.Values.SequenceEqual(resumed.Model.Parameters.Values), "resumed weights differ from an uninterrupted run");
        var steps = File.ReadAllLines(Path.Combine(_dir, "split", "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetDouble()).ToList();
        Assert.Equal([1, 2, 2, 3, 4, 4], steps);   // the first run's evaluation at its end (step 2) stays
    }

    [Fact]
    public void Reinforce_with_a_learned_value_baseline_trains_its_critic_toward_the_sequence_reward()
    {
        var options = Options(RlAlgorithm.Reinforce, steps: 6) with { Baseline = ReinforceBaseline.Value, LearningRate = 3e-3 };
        Assert.True(options.UsesCritic);
        Assert.False((options with { Baseline = ReinforceBaseline.BatchMean }).UsesCritic);
        var policy = PolicyTestData.Create();
        var critic = RlTrainer.CriticFor(policy, null);   // the policy's body with a zero value head: V = 0 at the start
        Assert.All(critic.ScoreWeight.Data.ToArray(), w => Assert.Equal(0f, w));
        // Every score is about 5 (a bias on the word-weight model), so R ≈ 5 while V starts at 0.
        var metadata = new RewardModelMetadata { MaxLength = 64, Extra = new() { ["fake_bias"] = System.Text.Json.JsonSerializer.SerializeToElement(5.0) } };
        var rewards = new RlRewards([new RewardScorer(new FakeRewardModel(metadata))], options);
        var trainer = new RlTrainer(policy, rewards, critic, options, WorkerPool.Single);
        trainer.Train(Prompts, Prompts[..2], Path.Combine(_dir, "value"));
        var rows = trainer.Metrics.Where(r => r.ContainsKey("loss/value_avg")).ToList();
        Assert.Equal(6, rows.Count);
        Assert.All(rows, r => Assert.True(double.IsFinite(r["loss/value_avg"]) && r["loss/value_avg"] > 0, $"value loss {r["loss/value_avg"]}"));
        Assert.Contains(critic.ScoreWeight.Data.ToArray(), w => w != 0f);   // the critic's head was trained
        // Regressing V on R ≈ 5 from 0 raises V (each update moves it by at most the value clip range).
        var ids = policy.EncodePrompt(Prompts[0], 32, out _).Concat(policy.Tokenizer.Encode(" Sure, here is something.")).ToArray();
        var tape = new RewardKit.Tensors.Tape { RecordsGradients = false };
        var values = new Critic(critic).Values(tape, RewardKit.Models.TokenBatch.FromSequences([ids], 0, [ids.Length - 3])).ToArray();
        Assert.True(values.Average() > 0.3, $"V = {string.Join(", ", values)} after training toward R ≈ 5");
    }

    [Fact]
    public void Resuming_a_finished_run_adds_no_second_final_evaluation_row()
    {
        var (_, whole, _) = Run(Options(RlAlgorithm.Rloo, steps: 2), "finished");
        var path = Path.Combine(_dir, "finished", "metrics.jsonl");
        var rows = File.ReadAllLines(path);
        var (trainer, again, result) = Run(Options(RlAlgorithm.Rloo, steps: 2), "finished", resume: true);
        Assert.Equal(rows, File.ReadAllLines(path));   // 2 steps + 1 final evaluation, as before
        Assert.Equal(3, trainer.Metrics.Count);        // the kept rows (for the report)
        Assert.Equal(2, result.Steps);
        Assert.True(whole.Model.Parameters.Values.SequenceEqual(again.Model.Parameters.Values));
    }

    [Fact]
    public void The_same_seed_gives_the_same_run()
    {
        var (a, pa, _) = Run(Options(RlAlgorithm.Rloo), "a");
        var (b, pb, _) = Run(Options(RlAlgorithm.Rloo), "b");
        Assert.Equal(a.Metrics.Select(r => r.GetValueOrDefault("objective/scores")), b.Metrics.Select(r => r.GetValueOrDefault("objective/scores")));
        Assert.Equal(a.Metrics.Select(r => r.GetValueOrDefault("objective/kl")), b.Metrics.Select(r => r.GetValueOrDefault("objective/kl")));
        Assert.True(pa.Model.Parameters.Values.SequenceEqual(pb.Model.Parameters.Values));
    }

    /// <summary>A reward model whose every score is NaN.</summary>
    sealed class NanRewardModel : IRewardModel
    {
        readonly FakeRewardModel _inner = new(new RewardModelMetadata { MaxLength = 64 });
        public RewardModelMetadata Metadata => _inner.Metadata;
        public int[] Encode(string prompt, string response) => _inner.Encode(prompt, response);
        public void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default) => rewards.Fill(float.NaN);
        public void Dispose() => _inner.Dispose();
    }

    [Fact]
    public void A_nan_reward_or_a_bad_option_stops_the_run_with_a_message()
    {
        var e = Assert.Throws<ArgumentException>(() => Run(Options(RlAlgorithm.Reinforce) with { LengthPenalty = double.NaN }, "bad"));
        Assert.Contains("length_penalty", e.Message);
        var options = Options(RlAlgorithm.Ppo);
        var policy = PolicyTestData.Create();
        var trainer = new RlTrainer(policy, new RlRewards([new RewardScorer(new NanRewardModel())], options), RlTrainer.CriticFor(policy, null), options, WorkerPool.Single);
        // The scorer refuses a non-finite reward before the trainer sees it (hostile-input hardening); either way the run stops with a message.
        var stopped = Assert.ThrowsAny<Exception>(() => trainer.Train(Prompts, Prompts[..2], Path.Combine(_dir, "nan")));
        Assert.True(stopped is TrainingDivergedException or NonFiniteRewardException, stopped.ToString());
        Assert.Contains("NaN", stopped.Message);
    }

    [Fact]
    public void Reward_scaling_clipping_and_penalties_shape_the_score()
    {
        var options = new RlOptions { RewardScaling = RewardScaling.MinMax, LengthPenalty = 0.1, MissingEosPenalty = 1 };
        var rewards = new RlRewards([new RewardScorer(new FakeRewardModel(new RewardModelMetadata()))], options);
        var shaped = rewards.Shape([0f, 2f, 4f], [1, 2, 3], [true, true, false]);
        Assert.Equal([0 - 0.1f, 0.5f - 0.2f, 1 - 0.3f - 1], shaped, (x, y) => Math.Abs(x - y) < 1e-6);
        var log = new RlRewards([new RewardScorer(new FakeRewardModel(new RewardModelMetadata()))], new RlOptions { RewardScaling = RewardScaling.Log, RewardClip = 1 });
        Assert.Equal([(float)-Math.Log(2), 1f], log.Shape([-1f, 100f], [0, 0], [true, true]), (x, y) => Math.Abs(x - y) < 1e-6);
        Assert.Throws<ArgumentException>(() => new RlRewards([new RewardScorer(new FakeRewardModel(new RewardModelMetadata()))], new RlOptions { RewardWeights = [0.5, 0.5] }));
    }

    [Fact]
    public void Holding_out_keeps_five_percent_of_the_prompts_apart()
    {
        var prompts = Enumerable.Range(0, 100).Select(i => $"p{i}").ToList();
        var (train, held) = RlTrainer.HoldOut(prompts, 1);
        Assert.Equal(95, train.Count);
        Assert.Equal(5, held.Count);
        Assert.Empty(train.Intersect(held));
    }
}
