using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary><c>rewardkit train</c>: its flags, and a real child process killed with SIGKILL and started again with <c>--resume</c>.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class TrainCommandTests(Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-train-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Every_training_option_has_a_flag_with_its_help_and_the_old_flag_names_still_work()
    {
        var command = Commands.TrainCommand.Create();
        var names = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet();
        foreach (var d in Training.RewardTrainingOptions.Descriptors.Where(d => !d.IsRecorded))
        {
            Assert.Contains(d.Flags[0], names);
            Assert.Equal(d.FullHelp, command.Options.Single(o => o.Name == d.Flags[0]).Description);
        }
        string[] before = ["--data", "--eval-data", "--out", "--config", "--preset", "--init", "--tokenizer", "--loss", "--max-steps", "--epochs",
            "--batch-size", "--lr", "--sft-steps", "--max-length", "--threads", "--seed", "--resume", "--skip-invalid"];
        Assert.All(before, flag => Assert.Contains(flag, names));
    }

    [Theory]
    [InlineData("--loss", "hinj", "--loss: training option 'loss': 'hinj' is not one of bradley-terry, contrastive, hinge, focal.")]
    [InlineData("--schedule", "cosin", "'cosin' is not one of cosine, linear, constant.")]
    [InlineData("--lr", "fast", "--lr: training option 'learning_rate': 'fast' is not a number")]
    public void A_bad_flag_value_is_a_user_error_naming_the_flag_and_what_it_accepts(string flag, string value, string message)
    {
        WritePairs(P("train.jsonl"), 4, seed: 1);
        var oldErr = Console.Error;
        using var e = new StringWriter();
        Console.SetError(e);
        try
        {
            Assert.Equal(CliApp.UserError, CliApp.Run(["train", "--data", P("train.jsonl"), "--out", P("out"), flag, value]));
        }
        finally { Console.SetError(oldErr); }
        Assert.Contains(message, e.ToString());
    }

    [Fact]
    public void Killing_train_at_random_moments_and_repeating_the_command_with_resume_gives_the_uninterrupted_runs_weights()
    {
        WritePairs(P("train.jsonl"), 48, seed: 1);
        WritePairs(P("eval.jsonl"), 16, seed: 2);
        // A small, quick run that still has every phase: tokenizer training, 6 SFT steps and 8 reward steps, checkpoints
        // every 2 steps of each, evaluations every 4 (best-model tracking), dropout (the RNG state must survive).
        File.WriteAllText(P("config.yaml"), "vocab_size: 300\nmax_length: 48\nbatch_size: 8\nmax_steps: 8\nsft_steps: 6\nsft_batch_size: 8\n"
            + "checkpoint_every: 2\neval_every: 4\ndropout: 0.1\nthreads: 2\nseed: 7\nlearning_rate: 0.003\n");
        var straight = Launch(P("straight"));
        Assert.True(straight.Exited && straight.Code == 0, straight.Output);
        Assert.Contains("no checkpoint", straight.Output);   // --resume with nothing to resume starts from the beginning

        // Kill points: one within the first second (start-up, no checkpoint yet), then three moments drawn from the
        // uninterrupted run's progress lines (checkpoint writes, evaluations, the warm start, the final save) in order,
        // each followed by a random delay of up to 300 ms, so the kill lands inside or just after that work.
        var rng = new Random(17);
        var progress = straight.Output.Split('\n').Select(l => l.Trim())
            .Where(l => l.StartsWith("checkpoint at", StringComparison.Ordinal) || l.StartsWith("SFT warm start", StringComparison.Ordinal)
                || (l.StartsWith("step ", StringComparison.Ordinal) && l.Contains("eval_loss", StringComparison.Ordinal))
                || l.StartsWith("scoring", StringComparison.Ordinal))
            .Select(l => l[..Math.Min(l.Length, 40)]).Distinct().ToArray();
        Assert.True(progress.Length >= 8, straight.Output);
        var triggers = Enumerable.Range(0, progress.Length).OrderBy(_ => rng.Next()).Take(3).Order().Select(i => progress[i]);
        var kills = new List<string>();
        var first = TimeSpan.FromSeconds(rng.NextDouble());
        var launch = Launch(P("killed"), killAfter: first);
        kills.Add(launch.Exited ? $"finished before {first.TotalSeconds:F2} s" : $"killed at {first.TotalSeconds:F2} s ({Where(P("killed"))})");
        foreach (var trigger in triggers)
        {
            var delay = TimeSpan.FromMilliseconds(300 * rng.NextDouble());
            launch = Launch(P("killed"), killAfter: delay, afterLine: trigger);
            Assert.True(!launch.Exited || launch.Code == 0, launch.Output);
            kills.Add(launch.Exited ? $"finished (waiting for '{trigger}')" : $"killed {delay.TotalMilliseconds:F0} ms after '{trigger}' ({Where(P("killed"))})");
        }
        var last = Launch(P("killed"));

        string story = string.Join("; ", kills);
        log.WriteLine($"{story}; then a last run to the end");
        Assert.True(last.Exited && last.Code == 0, story + "\n" + last.Output);
        Assert.True(File.ReadAllBytes(Path.Combine(P("straight"), "model", "model.safetensors"))
            .AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(P("killed"), "model", "model.safetensors"))), $"weights differ after: {story}");
        Assert.Equal(Metrics(P("straight")), Metrics(P("killed")));
        Assert.Equal(["checkpoint", "model"], Directory.GetDirectories(P("killed")).Select(Path.GetFileName).Order());
    }

    /// <summary>
    /// Runs the train command with <c>--resume</c> as a child process. With <paramref name="killAfter"/> it is killed
    /// (SIGKILL) that long after it starts, or after it prints a line starting with <paramref name="afterLine"/>.
    /// </summary>
    (bool Exited, int Code, string Output) Launch(string outDir, TimeSpan? killAfter = null, string? afterLine = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { typeof(CliApp).Assembly.Location, "train", "--data", P("train.jsonl"), "--eval-data", P("eval.jsonl"),
                     "--out", outDir, "--config", P("config.yaml"), "--resume" })
            start.ArgumentList.Add(arg);
        var output = new StringBuilder();
        using var seen = new ManualResetEventSlim(afterLine is null);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            lock (output) output.AppendLine(e.Data);
            if (afterLine is not null && e.Data?.Trim().StartsWith(afterLine, StringComparison.Ordinal) == true) seen.Set();
        };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var limit = TimeSpan.FromMinutes(2);
        if (killAfter is { } delay)
        {
            while (!seen.Wait(50) && !process.HasExited) { }
            if (!process.WaitForExit(delay))
            {
                process.Kill();   // SIGKILL on Unix: no handler, no flush, no clean-up
                process.WaitForExit();
                return (false, -1, Text());
            }
        }
        Assert.True(process.WaitForExit(limit), "the run did not finish within two minutes:\n" + Text());
        process.WaitForExit();   // drains the output
        return (true, process.ExitCode, Text());

        string Text() { lock (output) return output.ToString(); }
    }

    /// <summary>Where the run's checkpoint is, and which temporaries the kill left.</summary>
    static string Where(string run)
    {
        var state = Path.Combine(run, "checkpoint", "state.json");
        string where = "no checkpoint";
        if (File.Exists(state))
        {
            var json = JsonDocument.Parse(File.ReadAllText(state)).RootElement;
            where = json.TryGetProperty("warm_start", out var sft) ? $"checkpoint at SFT step {sft.GetProperty("step")}" : $"checkpoint at step {json.GetProperty("step")}";
        }
        var temporaries = Directory.Exists(run) ? Directory.GetDirectories(run, "*.tmp-*").Length : 0;
        return temporaries == 0 ? where : $"{where}, {temporaries} temporary folders left";
    }

    static string[] Metrics(string run) => [.. File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))
        .Select(line => JsonSerializer.Deserialize<Dictionary<string, double>>(line)!)
        .Select(row => JsonSerializer.Serialize(row.Where(kv => kv.Key != "tokens_per_s").ToDictionary()))];

    static void WritePairs(string path, int pairs, int seed)
    {
        string[] topics = ["the weather", "a recipe", "the train times", "a poem", "the river", "music", "chess", "tea"];
        var rng = new Random(seed);
        using var w = new StreamWriter(path);
        for (int i = 0; i < pairs; i++)
        {
            var topic = topics[rng.Next(topics.Length)];
            var prompt = $"Tell me about {topic}, number {i}.";
            var chosen = $"Sure, happy to help: here is a clear answer about {topic}. Thank you for asking!";
            var rejected = rng.Next(2) == 0 ? "No." : $"Whatever, {topic} is boring.";
            w.WriteLine(JsonSerializer.Serialize(new { prompt, chosen, rejected }));
        }
    }
}
