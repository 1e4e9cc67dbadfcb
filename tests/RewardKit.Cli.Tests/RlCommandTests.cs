using System.Diagnostics;
using System.Text.Json;
using System.Text;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Cli.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class RlCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-rl-cli-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>A tiny untrained policy, a tiny reward model with the same tokenizer, and a prompts file.</summary>
    (string Policy, string Reward, string Prompts) Make(params string[] promptLines) =>
        TinyModelFolders.PolicyAndRewardModel(_dir, ["the sea", "a bird", "rain", "the moon", "bread"], promptLines);

    static (int Code, string Out, string Error) Run(params string[] args) => ConsoleCapture.Run(args);

    string[] Args(string policy, string reward, string prompts, string algo, params string[] more) =>
        ["rl", "--algo", algo, "--policy", policy, "--reward-model", reward, "--prompts", prompts, "--out", Path.Combine(_dir, "out-" + algo),
         "--max-steps", "2", "--config", Config(), "--threads", "1", .. more];

    string Config()
    {
        var path = Path.Combine(_dir, "rl.yaml");
        File.WriteAllText(path, "prompts_per_step: 2\nsamples_per_prompt: 2\nmax_new_tokens: 5\nlearning_rate: 0.001\nminibatches: 2\nkl_coef: 0.1\n");
        return path;
    }

    [Theory]
    [InlineData("ppo")]
    [InlineData("rloo")]
    public void Rl_writes_the_policy_metrics_and_report_and_a_json_summary_last(string algo)
    {
        var (policy, reward, prompts) = Make();
        var (code, stdout, stderr) = Run(Args(policy, reward, prompts, algo, "--reward-model", reward, "--weights", "0.7,0.3", "--json", "--seed", "2"));
        Assert.True(code == CliApp.Success, stderr);
        var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(algo, summary.GetProperty("algo").GetString());
        Assert.Equal(2, summary.GetProperty("steps").GetInt32());
        foreach (var key in new[] { "kl", "proxy_reward_before", "proxy_reward_after" }) Assert.Equal(JsonValueKind.Number, summary.GetProperty(key).ValueKind);
        Assert.False(summary.TryGetProperty("gold_reward_before", out _));   // not world prompts
        var output = Path.Combine(_dir, "out-" + algo);
        Assert.True(File.Exists(Path.Combine(output, "policy", "model.safetensors")));
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(output, "report.html")));
        var first = JsonDocument.Parse(File.ReadAllLines(Path.Combine(output, "metrics.jsonl"))[0]).RootElement;
        Assert.True(first.TryGetProperty("objective/rlhf_reward", out _));
        Assert.Contains("step 2/2", stderr);
    }

    [Fact]
    public void Broken_prompt_lines_are_named_by_file_and_line_and_skip_invalid_counts_them()
    {
        var (policy, reward, prompts) = Make("{\"prompt\": \"Tell me about rain.\"}", "not json", "{\"prompt\": \"Tell me about the sea.\"}", "{\"prompt\": \"Tell me about bread.\"}");
        var (code, _, stderr) = Run(Args(policy, reward, prompts, "reinforce"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{prompts}:2", stderr);
        var (skipped, _, stderr2) = Run(Args(policy, reward, prompts, "reinforce", "--skip-invalid"));
        Assert.True(skipped == CliApp.Success, stderr2);
        Assert.Contains("1 invalid skipped", stderr2);
    }

    [Fact]
    public void A_missing_folder_or_a_bad_flag_is_a_user_error_naming_it()
    {
        var (policy, reward, prompts) = Make();
        var missing = Path.Combine(_dir, "nope");
        var (code, _, stderr) = Run(Args(missing, reward, prompts, "ppo"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains(missing, stderr);
        (code, _, stderr) = Run(Args(policy, reward, prompts, "sarsa"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--algo sarsa", stderr);
        (code, _, stderr) = Run(Args(policy, reward, prompts, "ppo", "--weights", "1,x"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--weights", stderr);
    }

    [Fact]
    public void Killing_rl_with_sigkill_and_repeating_the_command_with_resume_gives_the_uninterrupted_runs_policy()
    {
        var (policy, reward, prompts) = Make();
        string[] Command(string output) => ["rl", "--algo", "ppo", "--policy", policy, "--reward-model", reward, "--prompts", prompts,
            "--out", output, "--max-steps", "24", "--config", Config(), "--threads", "1", "--seed", "3", "--resume"];
        var straight = Path.Combine(_dir, "straight");
        var (code, _, stderr) = Run(Command(straight));
        Assert.True(code == CliApp.Success, stderr);

        // A real child process, killed (SIGKILL: no handler, no flush) once its checkpoint has reached step 3, then the same
        // command again: it resumes from whatever the kill left (a whole checkpoint, or a replacement half done).
        var killed = Path.Combine(_dir, "killed");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in Command(killed).Prepend(typeof(CliApp).Assembly.Location)) start.ArgumentList.Add(arg);
        var output = new StringBuilder();
        using (var process = new Process { StartInfo = start })
        {
            process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var state = Path.Combine(killed, "checkpoint", "state.json");
            var clock = Stopwatch.StartNew();
            while (!process.HasExited && CheckpointStep(state) < 3 && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(5);
            Assert.False(process.HasExited, "the run ended before it could be killed:\n" + output);
            process.Kill();
            process.WaitForExit();
        }
        long at = CheckpointStep(Path.Combine(killed, "checkpoint", "state.json"));
        Assert.InRange(at, 3, 23);
        var (resumed, _, resumedErr) = Run(Command(killed));
        Assert.True(resumed == CliApp.Success, resumedErr);
        Assert.True(File.ReadAllBytes(Path.Combine(straight, "policy", "model.safetensors"))
            .AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(killed, "policy", "model.safetensors"))), $"weights differ after a kill at step {at}");
        Assert.Equal(Metrics(straight), Metrics(killed));
        Assert.Empty(Directory.GetDirectories(killed, "*.tmp-*"));
    }

    /// <summary>The step of the checkpoint's state.json, or -1 while there is none (or it is being replaced).</summary>
    static long CheckpointStep(string state)
    {
        try { return JsonDocument.Parse(File.ReadAllText(state)).RootElement.GetProperty("step").GetInt64(); }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return -1; }
    }

    /// <summary>The metrics rows without their timings.</summary>
    static string[] Metrics(string run) => [.. File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))
        .Select(line => JsonSerializer.Deserialize<Dictionary<string, double>>(line)!)
        .Select(row => JsonSerializer.Serialize(row.Where(kv => !kv.Key.StartsWith("time/", StringComparison.Ordinal)).ToDictionary()))];
}
