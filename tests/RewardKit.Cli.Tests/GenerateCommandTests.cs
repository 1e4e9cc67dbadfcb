using System.Text.Json;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Cli.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class GenerateCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-generate-cli-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>A small untrained policy folder with its own tokenizer, and a prompts file.</summary>
    (string Policy, string Prompts) MakePolicyAndPrompts(params string[] promptLines)
    {
        var topics = new[] { "the sea", "a bird", "rain" };
        var texts = topics.SelectMany(t => new[] { $"Tell me about {t}.", $"Sure, here is something about {t}." }).ToList();
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 280, MinFrequency = 1 });
        var config = new GptConfig { Layers = 1, EmbeddingSize = 16, Heads = 2, Positions = 128, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var folder = Path.Combine(_dir, "policy");
        new Policy(GptLanguageModel.Create(config, seed: 3), tokenizer, PromptTemplate.Plain, new RewardModelMetadata()).Save(folder);
        var prompts = Path.Combine(_dir, "prompts.jsonl");
        File.WriteAllLines(prompts, promptLines.Length > 0 ? promptLines : topics.Select(t => JsonSerializer.Serialize(new { prompt = $"Tell me about {t}." })));
        return (folder, prompts);
    }

    static (int Code, string Out, string Error) Run(params string[] args)
    {
        var (savedOut, savedError) = (Console.Out, Console.Error);
        var (output, error) = (new StringWriter(), new StringWriter());
        Console.SetOut(output);
        Console.SetError(error);
        try { return (CliApp.Run(args), output.ToString(), error.ToString()); }
        finally { Console.SetOut(savedOut); Console.SetError(savedError); }
    }

    [Fact]
    public void Generate_writes_n_responses_per_prompt_with_token_counts_and_log_probs_and_a_json_summary()
    {
        var (policy, prompts) = MakePolicyAndPrompts();
        var output = Path.Combine(_dir, "out.jsonl");
        var (code, stdout, stderr) = Run("generate", "--policy", policy, "--prompts", prompts, "--out", output, "--n", "2",
            "--max-new-tokens", "5", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--seed", "3", "--logprobs", "--threads", "2", "--json");
        Assert.True(code == CliApp.Success, stderr);
        var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(6, lines.Length);
        Assert.All(lines, l =>
        {
            Assert.StartsWith("Tell me about", l.GetProperty("prompt").GetString());
            Assert.Equal(l.GetProperty("tokens").GetInt32(), l.GetProperty("logprobs").GetArrayLength());
            Assert.Equal(JsonValueKind.String, l.GetProperty("response").ValueKind);
        });
        var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(3, summary.GetProperty("prompts").GetInt32());
        Assert.Equal(6, summary.GetProperty("responses").GetInt32());
        Assert.Equal(lines.Sum(l => l.GetProperty("tokens").GetInt32()), summary.GetProperty("tokens").GetInt32());
        Assert.Contains("prompts", stderr);   // the progress bar and the read summary go to stderr

        var again = Path.Combine(_dir, "again.jsonl");
        Assert.Equal(CliApp.Success, Run("generate", "--policy", policy, "--prompts", prompts, "--out", again, "--n", "2",
            "--max-new-tokens", "5", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--seed", "3", "--logprobs", "--threads", "1", "--batch-size", "4").Code);
        Assert.Equal(File.ReadAllText(output), File.ReadAllText(again));
    }

    [Fact]
    public void A_broken_prompt_line_is_a_user_error_at_file_and_line_and_skip_invalid_counts_it()
    {
        var (policy, prompts) = MakePolicyAndPrompts("""{"prompt": "Tell me about rain."}""", """{"prompt": "Tell me""", """{"prompt": "Tell me about a bird."}""");
        var output = Path.Combine(_dir, "out.jsonl");
        var (code, _, error) = Run("generate", "--policy", policy, "--prompts", prompts, "--out", output, "--greedy");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{prompts}:2:", error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(File.Exists(output));

        var (skipCode, _, skipError) = Run("generate", "--policy", policy, "--prompts", prompts, "--out", output, "--greedy", "--skip-invalid", "--max-new-tokens", "3");
        Assert.Equal(CliApp.Success, skipCode);
        Assert.Equal(2, File.ReadAllLines(output).Length);
        Assert.Contains("1 invalid skipped", skipError);
        Assert.Contains($"{prompts}:2:", skipError);
    }

    [Fact]
    public void A_missing_policy_a_reward_model_folder_and_bad_flags_are_user_errors_naming_the_fix()
    {
        var (policy, prompts) = MakePolicyAndPrompts();
        var output = Path.Combine(_dir, "out.jsonl");
        var missing = Path.Combine(_dir, "nope");
        var (code, _, error) = Run("generate", "--policy", missing, "--prompts", prompts, "--out", output);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains(missing, error);

        var reward = Path.Combine(_dir, "rm");
        var config = GptConfig.Load(policy);
        RewardModelFolder.Save(GptRewardModel.Create(config, seed: 1), reward);
        (code, _, error) = Run("generate", "--policy", reward, "--prompts", prompts, "--out", output);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("reward model", error);
        Assert.Contains("sft --init", error);

        (code, _, error) = Run("generate", "--policy", policy, "--prompts", prompts, "--out", output, "--temperature", "0");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--temperature", error);
        (code, _, error) = Run("generate", "--policy", policy, "--prompts", Path.Combine(_dir, "none.jsonl"), "--out", output);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("none.jsonl", error);
        Assert.False(File.Exists(output));
    }
}
