using System.Text.Json;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Cli.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class BestOfNCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-bon-cli-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>A tiny untrained policy, a tiny reward model with the same tokenizer, and a prompts file of three prompts.</summary>
    (string Policy, string Reward, string Prompts) Make() => TinyModelFolders.PolicyAndRewardModel(_dir, ["the sea", "a bird", "rain"]);

    [Fact]
    public void Best_of_n_with_a_policy_keeps_the_highest_scored_of_the_samples_generate_would_write_and_reports_the_analytic_kl()
    {
        var (policy, reward, prompts) = Make();
        var output = Path.Combine(_dir, "best.jsonl");
        var (code, stdout, stderr) = ConsoleCapture.Run("best-of-n", "--policy", policy, "--reward-model", reward, "--prompts", prompts, "--n", "4",
            "--out", output, "--max-new-tokens", "6", "--seed", "7", "--threads", "1", "--json");
        Assert.True(code == CliApp.Success, stderr);
        var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(3, summary.GetProperty("prompts").GetInt32());
        Assert.Equal(4, summary.GetProperty("n").GetInt32());
        Assert.Equal(Math.Log(4) - 0.75, summary.GetProperty("kl").GetDouble(), 5);
        var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3, lines.Length);

        // The samples are those of `generate --n 4` with the same seed; the kept one has the highest of the four rewards.
        var generated = Path.Combine(_dir, "generated.jsonl");
        Assert.Equal(CliApp.Success, ConsoleCapture.Run("generate", "--policy", policy, "--prompts", prompts, "--n", "4", "--out", generated,
            "--max-new-tokens", "6", "--seed", "7", "--threads", "1").Code);
        var samples = File.ReadAllLines(generated).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        for (int p = 0; p < 3; p++)
        {
            var rewards = lines[p].GetProperty("rewards").EnumerateArray().Select(r => r.GetDouble()).ToArray();
            int sample = lines[p].GetProperty("sample").GetInt32();
            Assert.Equal(4, rewards.Length);
            Assert.Equal(rewards.Max(), lines[p].GetProperty("reward").GetDouble());
            Assert.Equal(rewards.Max(), rewards[sample]);
            Assert.Equal(samples[p * 4 + sample].GetProperty("response").GetString(), lines[p].GetProperty("response").GetString());
        }
        Assert.Equal(lines.Average(l => l.GetProperty("reward").GetDouble()), summary.GetProperty("mean_reward").GetDouble(), 5);
    }

    [Fact]
    public void Best_of_n_over_given_responses_still_works_beside_the_policy_mode()
    {
        var (_, reward, _) = Make();
        var (code, stdout, stderr) = ConsoleCapture.Run("best-of-n", "--model", reward, "--prompt", "Tell me about rain.", "--response", "Sure.", "--response", "No.", "--json");
        Assert.True(code == CliApp.Success, stderr);
        var best = JsonDocument.Parse(stdout).RootElement;
        Assert.InRange(best.GetProperty("best_index").GetInt32(), 0, 1);
    }

    [Theory]
    [InlineData("--prompts")]
    [InlineData("--out")]
    public void Best_of_n_with_a_policy_but_without_prompts_or_out_is_a_user_error_naming_the_flag(string missing)
    {
        var (policy, reward, prompts) = Make();
        var args = new List<string> { "best-of-n", "--policy", policy, "--reward-model", reward, "--prompts", prompts, "--out", Path.Combine(_dir, "o.jsonl") };
        int at = args.IndexOf(missing);
        args.RemoveRange(at, 2);
        var (code, _, stderr) = ConsoleCapture.Run([.. args]);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains(missing, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void Best_of_n_with_n_zero_is_a_user_error()
    {
        var (policy, reward, prompts) = Make();
        var (code, _, stderr) = ConsoleCapture.Run("best-of-n", "--policy", policy, "--reward-model", reward, "--prompts", prompts, "--out", Path.Combine(_dir, "o.jsonl"), "--n", "0");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--n 0", stderr);
    }
}
