using System.Text.Json;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Cli.Tests;

/// <summary><c>rewardkit sft</c>: the policy folder it writes opens in <c>generate</c>; bad records are named by FILE:LINE.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SftCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-sft-cli-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    static readonly string[] Topics = ["the sea", "a bird", "rain"];

    /// <summary>A tiny untrained policy folder (the --init) and a pairs file whose chosen responses are short.</summary>
    (string Init, string Pairs) Make()
    {
        var texts = Topics.SelectMany(t => new[] { $"Tell me about {t}.", $"Sure: {t} is nice.", "No." }).ToList();
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 280, MinFrequency = 1 });
        var config = new GptConfig { Layers = 1, EmbeddingSize = 16, Heads = 2, Positions = 64, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var init = Path.Combine(_dir, "init");
        new Policy(GptLanguageModel.Create(config, seed: 3), tokenizer, PromptTemplate.Plain, new RewardModelMetadata { Template = "plain" }).Save(init);
        var pairs = Path.Combine(_dir, "pairs.jsonl");
        File.WriteAllLines(pairs, Enumerable.Range(0, 12).Select(i => JsonSerializer.Serialize(new { prompt = $"Tell me about {Topics[i % 3]}.", chosen = $"Sure: {Topics[i % 3]} is nice.", rejected = "No." })));
        return (init, pairs);
    }

    [Fact]
    public void Sft_writes_a_policy_that_generate_opens_and_a_json_summary_last()
    {
        var (init, pairs) = Make();
        var output = Path.Combine(_dir, "sft");
        var (code, stdout, stderr) = ConsoleCapture.Run("sft", "--data", pairs, "--out", output, "--init", init, "--max-steps", "4", "--batch-size", "4", "--threads", "1", "--json");
        Assert.True(code == CliApp.Success, stderr);
        var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(4, summary.GetProperty("steps").GetInt32());
        Assert.Equal(12, summary.GetProperty("sequences").GetInt32());
        Assert.Equal(12, summary.GetProperty("eos_targets").GetInt32());
        Assert.Equal(Path.Combine(output, "policy"), summary.GetProperty("policy").GetString());
        Assert.Contains("sft step 4/4", stderr);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Length);
        var generated = Path.Combine(_dir, "gen.jsonl");
        var (genCode, _, genErr) = ConsoleCapture.Run("generate", "--policy", Path.Combine(output, "policy"), "--prompts", pairs, "--out", generated, "--max-new-tokens", "4", "--threads", "1");
        Assert.True(genCode == CliApp.Success, genErr);
        Assert.Equal(3, File.ReadAllLines(generated).Length);
    }

    [Fact]
    public void A_prompt_only_line_is_a_user_error_naming_the_file_and_line()
    {
        var (init, _) = Make();
        var data = Path.Combine(_dir, "records.jsonl");
        File.WriteAllLines(data, ["{\"prompt\": \"Tell me about rain.\", \"response\": \"Sure: rain is nice.\"}", "{\"prompt\": \"Tell me about the sea.\"}"]);
        var (code, _, stderr) = ConsoleCapture.Run("sft", "--data", data, "--out", Path.Combine(_dir, "bad"), "--init", init, "--max-steps", "1", "--threads", "1");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{data}:2", stderr);
        Assert.Contains("no 'response' field", stderr);
        Assert.DoesNotContain("   at ", stderr);   // no stack trace
    }

    [Fact]
    public void A_bad_preset_is_a_user_error_listing_the_presets()
    {
        var (_, pairs) = Make();
        var (code, _, stderr) = ConsoleCapture.Run("sft", "--data", pairs, "--out", Path.Combine(_dir, "p"), "--preset", "huge");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("tiny, small, base", stderr);
    }
}
