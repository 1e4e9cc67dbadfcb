using System.Text.Json;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;
using RewardKit.Text;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

/// <summary><c>rewardkit sft</c>'s trainer on a one-block, 16-wide policy: a second or two per run.</summary>
public sealed class PolicySftTrainerTests : TrainingFolderTest
{
    static readonly string[] Topics = ["the sea", "a bird", "rain", "the moon", "bread"];

    /// <summary>A tiny untrained policy folder whose tokenizer knows the records' words.</summary>
    string TinyPolicy(int positions = 48)
    {
        var texts = Topics.SelectMany(t => new[] { $"Tell me about {t}.", $"Sure: {t} is nice.", "No." }).ToList();
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 300, MinFrequency = 1 });
        var config = new GptConfig { Layers = 1, EmbeddingSize = 16, Heads = 2, Positions = positions, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var folder = Path.Combine(NewFolder(), "init");
        new Policy(GptLanguageModel.Create(config, seed: 3), tokenizer, PromptTemplate.Plain, new RewardModelMetadata { Template = "plain" }).Save(folder);
        return folder;
    }

    /// <summary>prompt/response records: a short fixed answer per topic.</summary>
    string Records(int count = 40)
    {
        var path = Path.Combine(NewFolder(), "sft.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(new { prompt = $"Tell me about {Topics[i % Topics.Length]}.", response = $"Sure: {Topics[i % Topics.Length]} is nice." })));
        return path;
    }

    static SftOptions Options(string init, int steps) => new()
    {
        Init = init, MaxSteps = steps, BatchSize = 8, LearningRate = 1e-2, WarmupRatio = 0, MaxLength = 40, CheckpointEvery = 5, Threads = 2, Seed = 3,
    };

    [Fact]
    public void Sft_on_pairs_trains_the_chosen_responses_with_end_of_text_and_writes_a_policy_folder_and_metrics()
    {
        var pairs = TrainingTestData.WritePairs(NewFolder(), "pairs.jsonl", 24);
        var output = NewFolder();
        var init = TinyPolicy(positions: 192);
        var before = Policy.Load(init).Model.Parameters.Values.ToArray();
        var result = new PolicySftTrainer(Options(init, 12) with { MaxLength = 192 }).Train([pairs], output);
        Assert.False(result.Cancelled);
        Assert.Equal(12, result.Steps);
        Assert.Equal(24, result.Sequences);
        Assert.Equal(24, result.EndOfTextTargets);   // every response ends with end-of-text inside the loss
        Assert.True(result.Losses.Take(3).Average() > result.Losses.TakeLast(3).Average(), $"loss did not fall: {string.Join(", ", result.Losses)}");
        var policy = Policy.Load(result.PolicyDirectory!);
        Assert.Equal(Path.Combine(output, "policy"), result.PolicyDirectory);
        Assert.Equal(GptLanguageModel.Architecture, JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "policy", "config.json"))).RootElement.GetProperty("architectures")[0].GetString());
        Assert.False(before.AsSpan().SequenceEqual(policy.Model.Parameters.Values));
        var steps = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetDouble());
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (double)i), steps);
    }

    [Fact]
    public void Without_append_eos_the_loss_has_no_end_of_text_target()
    {
        var result = new PolicySftTrainer(Options(TinyPolicy(), 1) with { AppendEos = false }).Train([Records(8)], NewFolder());
        Assert.Equal(8, result.Sequences);
        Assert.Equal(0, result.EndOfTextTargets);
    }

    [Fact]
    public void A_policy_trained_a_few_steps_ends_its_responses_with_eos()
    {
        var init = TinyPolicy();
        var prompt = "Tell me about rain.";
        var untrained = Policy.Load(init);
        var result = new PolicySftTrainer(Options(init, 60)).Train([Records()], NewFolder());
        var trained = Policy.Load(result.PolicyDirectory!);
        var sampling = new SamplingOptions { Greedy = true, MaxNewTokens = 16 };
        FinishReason Finish(Policy p) => new TokenGenerator(p.Model, WorkerPool.Single).Generate([p.EncodePrompt(prompt, 32, out _)], sampling).Finish[0];
        Assert.Equal(FinishReason.Length, Finish(untrained));
        var generated = new TokenGenerator(trained.Model, WorkerPool.Single).Generate([trained.EncodePrompt(prompt, 32, out _)], sampling);
        Assert.Equal(FinishReason.Eos, generated.Finish[0]);
        Assert.EndsWith("is nice.", trained.DecodeResponse(generated.Tokens[0]));
    }

    [Fact]
    public void Resuming_a_stopped_run_gives_the_weights_and_metrics_of_an_uninterrupted_run()
    {
        var (init, data) = (TinyPolicy(), Records());
        var whole = new PolicySftTrainer(Options(init, 14)).Train([data], NewFolder());

        var split = NewFolder();
        using var stop = new CancellationTokenSource();
        var stopped = new PolicySftTrainer(Options(init, 14)) { Metrics = row => { if (row["step"] == 7) stop.Cancel(); } }.Train([data], split, stop.Token);
        Assert.True(stopped.Cancelled);
        Assert.Equal(7, stopped.Steps);
        Assert.Null(stopped.PolicyDirectory);
        var resumed = new PolicySftTrainer(Options(init, 14) with { Resume = true }).Train([data], split);

        Assert.Equal(14, resumed.Steps);
        Assert.True(Policy.Load(whole.PolicyDirectory!).Model.Parameters.Values.SequenceEqual(Policy.Load(resumed.PolicyDirectory!).Model.Parameters.Values),
            "resumed weights differ from an uninterrupted run");
        Assert.Equal(whole.Losses, resumed.Losses);
        var steps = File.ReadAllLines(Path.Combine(split, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetDouble());
        Assert.Equal(Enumerable.Range(1, 14).Select(i => (double)i), steps);

        var again = new PolicySftTrainer(Options(init, 14) with { Resume = true }).Train([data], split);   // a finished run: nothing more
        Assert.Equal(14, again.Steps);
        Assert.Equal(14, File.ReadAllLines(Path.Combine(split, "metrics.jsonl")).Length);
    }

    [Fact]
    public void A_prompt_only_line_stops_the_run_naming_the_file_and_line_unless_skipped()
    {
        var path = Path.Combine(NewFolder(), "mixed.jsonl");
        File.WriteAllLines(path, [
            JsonSerializer.Serialize(new { prompt = "Tell me about rain.", response = "Sure: rain is nice." }),
            JsonSerializer.Serialize(new { prompt = "Tell me about the sea." }),
            JsonSerializer.Serialize(new { prompt = "Tell me about bread.", response = "Sure: bread is nice." }),
        ]);
        var e = Assert.Throws<InvalidDataException>(() => new PolicySftTrainer(Options(TinyPolicy(), 1)).Train([path], NewFolder()));
        Assert.Contains($"{path}:2", e.Message);
        Assert.Contains("response", e.Message);
        var result = new PolicySftTrainer(Options(TinyPolicy(), 1) with { SkipInvalid = true }).Train([path], NewFolder());
        Assert.Equal(2, result.Examples);
    }

    [Fact]
    public void Sft_data_reads_chosen_responses_of_pairs_the_best_ranked_response_and_refuses_ratings()
    {
        var dir = NewFolder();
        var pairs = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllText(pairs, JsonSerializer.Serialize(new { prompt = "p", chosen = "good", rejected = "bad" }) + "\n");
        var ranks = Path.Combine(dir, "ranks.jsonl");
        File.WriteAllText(ranks, JsonSerializer.Serialize(new { prompt = "p", responses = new[] { "second", "first", "third" }, ranks = new[] { 2, 1, 3 } }) + "\n");
        var ratings = Path.Combine(dir, "ratings.jsonl");
        File.WriteAllText(ratings, JsonSerializer.Serialize(new { prompt = "p", response = "r", rating = 4 }) + "\n");
        Assert.Equal("good", SftData.Read(pairs).Examples.Single().Response);
        Assert.Equal("first", SftData.Read(ranks).Examples.Single().Response);
        var e = Assert.Throws<InvalidDataException>(() => SftData.Read(ratings));
        Assert.Contains($"{ratings}:1", e.Message);
    }

    [Fact]
    public void A_new_model_of_a_preset_trains_its_own_tokenizer()
    {
        var result = new PolicySftTrainer(new SftOptions { Preset = ModelPreset.Tiny, VocabSize = 300, MaxSteps = 2, BatchSize = 8, MaxLength = 40, Threads = 2 })
            .Train([Records(16)], NewFolder());
        var policy = Policy.Load(result.PolicyDirectory!);
        Assert.Equal(2, policy.Model.Config.Layers);
        Assert.Equal(policy.Tokenizer.VocabSize, policy.Model.Config.VocabSize);
        Assert.Equal(policy.Tokenizer.EndOfTextId, policy.Model.Config.EosTokenId);
    }

    [Fact]
    public void Sft_options_read_snake_case_yaml_and_name_a_bad_value()
    {
        var path = Path.Combine(NewFolder(), "sft.yaml");
        File.WriteAllText(path, "preset: small\nlearning_rate: 0.0003\nmax_steps: 7\nappend_eos: false\n");
        var o = SftOptions.LoadYaml(path);
        Assert.Equal((ModelPreset.Small, 3e-4, 7, false), (o.Preset, o.LearningRate, o.MaxSteps, o.AppendEos));
        File.WriteAllText(path, "preset: huge\n");
        var e = Assert.Throws<InvalidDataException>(() => SftOptions.LoadYaml(path));
        Assert.Contains($"{path}:1", e.Message);
        Assert.Contains("tiny, small, base", e.Message);
        Assert.Contains("batch_size", Assert.Throws<ArgumentException>(() => new SftOptions { BatchSize = 0 }.Validate()).Message);
    }
}
