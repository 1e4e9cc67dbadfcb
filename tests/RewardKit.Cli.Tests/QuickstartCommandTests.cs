using System.Text.Json;

namespace RewardKit.Cli.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class QuickstartCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-quickstart-cli-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void Quickstart_rl_writes_gold_and_proxy_against_sqrt_kl_for_ppo_checkpoints_and_best_of_n()
    {
        var config = Path.Combine(_dir, "ppo.yaml");
        File.WriteAllText(config, "prompts_per_step: 2\nsamples_per_prompt: 2\nmax_new_tokens: 8\ntemperature: 0.7\nlearning_rate: 0.0001\nminibatches: 1\nepochs: 1\n");
        var output = Path.Combine(_dir, "lab");
        var (code, stdout, stderr) = ConsoleCapture.Run("quickstart", "--rl", "--out", output, "--pairs", "1000", "--max-steps", "60", "--sft-steps", "4",
            "--ppo-steps", "2", "--eval-every", "1", "--held-out-prompts", "3", "--max-best-of-n", "4", "--rl-config", config, "--threads", "2", "--json");
        Assert.True(code == CliApp.Success, stdout + stderr);
        Assert.True(File.Exists(Path.Combine(output, "report", "report.json")), "the reward model's own quickstart report");
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "rl", "report.json"))).RootElement;
        var ppo = json.GetProperty("ppo").GetProperty("points").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2], ppo.Select(p => p.GetProperty("step").GetInt32()));
        var bon = json.GetProperty("best_of_n").GetProperty("points").EnumerateArray().ToArray();
        Assert.Equal([1, 2, 4], bon.Select(p => p.GetProperty("n").GetInt32()));
        Assert.Equal(0, bon[0].GetProperty("kl").GetDouble());
        Assert.Equal(Math.Sqrt(Math.Log(4) - 0.75), bon[2].GetProperty("sqrt_kl").GetDouble(), 9);
        // best-of-n's proxy reward cannot fall as n grows (the expectation of a maximum over more samples)
        Assert.True(bon[2].GetProperty("proxy_reward").GetDouble() >= bon[0].GetProperty("proxy_reward").GetDouble() - 1e-9);
        Assert.Equal(JsonValueKind.Object, json.GetProperty("ppo").GetProperty("gold_peak").ValueKind);
        Assert.Equal(JsonValueKind.False, json.GetProperty("stopped_on_gold_gap").ValueKind);
        var html = File.ReadAllText(Path.Combine(output, "rl", "report.html"));
        Assert.Contains("Gold reward against √KL", html);
        Assert.Contains("<svg", html);
        var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(2, summary.GetProperty("ppo_steps").GetInt32());
    }

    [Fact]
    public void Quickstart_with_too_few_pairs_is_a_user_error_naming_the_flag()
    {
        var (code, _, stderr) = ConsoleCapture.Run("quickstart", "--out", Path.Combine(_dir, "q"), "--pairs", "50");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--pairs 50", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void Quickstart_rl_with_a_given_reward_model_but_no_world_data_names_the_missing_file()
    {
        var (code, _, stderr) = ConsoleCapture.Run("quickstart", "--rl", "--out", Path.Combine(_dir, "empty"), "--reward-model", _dir);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("train.jsonl", stderr);
    }

    [Fact]
    public void Quickstart_real_with_a_folder_lacking_the_real_sets_is_a_user_error_naming_the_flag()
    {
        var (code, _, stderr) = ConsoleCapture.Run("quickstart", "--real", "--data-dir", _dir, "--out", Path.Combine(_dir, "real"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--data-dir", stderr);
        Assert.Contains("pandalm-test.jsonl", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void Quickstart_real_and_rl_together_is_a_user_error()
    {
        var (code, _, stderr) = ConsoleCapture.Run("quickstart", "--real", "--rl", "--out", Path.Combine(_dir, "both"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--real and --rl", stderr);
    }
}
