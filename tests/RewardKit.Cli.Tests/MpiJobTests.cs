using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RewardKit.Tensors.Safetensors;

namespace RewardKit.Cli.Tests;

/// <summary>
/// Files and runs the MPI tests share, made on first use: preference pairs, a training config, a one-process run and a
/// 2-rank run of the same 50 steps (after a 5-step SFT warm start) at the same global batch.
/// </summary>
public sealed class MpiRuns : IDisposable
{
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "rk-mpi-" + Guid.NewGuid().ToString("N")[..8]);
    public string Pairs => Path.Combine(Folder, "pairs.jsonl");
    public string Config => Path.Combine(Folder, "train.yaml");
    public const int Steps = 50;

    readonly Lazy<string> _single, _twoRanks;

    public MpiRuns()
    {
        Directory.CreateDirectory(Folder);
        WritePairs(Pairs, 160, seed: 1);
        File.WriteAllText(Config, string.Join('\n',
            "preset: tiny", "vocab_size: 300", "max_length: 48", "batch_size: 8", $"max_steps: {Steps}", "learning_rate: 0.0002",
            "warmup_ratio: 0", "schedule: constant", "eval_every: 0", "threads: 1", "seed: 7", "sft_steps: 5", "sft_batch_size: 8", ""));
        _single = new(() => Train("single", ranks: 0));
        _twoRanks = new(() => Train("two-ranks", ranks: 2));
    }

    /// <summary>The output folder of the one-process run.</summary>
    public string Single => _single.Value;

    /// <summary>The output folder of the 2-rank run.</summary>
    public string TwoRanks => _twoRanks.Value;

    public string Train(string name, int ranks, params string[] extra)
    {
        var output = Path.Combine(Folder, name);
        var run = MpiRun.Run(ranks, ["train", "--data", Pairs, "--config", Config, "--out", output, .. extra]);
        Assert.True(run.ExitCode == 0, $"train ({ranks} ranks) failed:\n{run.All}");
        return output;
    }

    /// <summary>Pairs whose chosen response is polite and whose rejected one is curt (what a tiny model learns in a few dozen steps).</summary>
    public static void WritePairs(string path, int pairs, int seed)
    {
        string[] topics = ["the weather", "a recipe", "the train times", "a poem", "the river", "music", "chess", "tea"];
        var rng = new Random(seed);
        using var w = new StreamWriter(path);
        for (int i = 0; i < pairs; i++)
        {
            var topic = topics[rng.Next(topics.Length)];
            var prompt = $"Tell me about {topic}, number {i}." + (i % 3 == 0 ? " Please be brief." : "");
            var chosen = $"Sure, happy to help: here is a clear answer about {topic}. Thank you for asking!";
            var rejected = rng.Next(2) == 0 ? "No." : $"Whatever, {topic} is boring.";
            w.WriteLine(JsonSerializer.Serialize(new { prompt, chosen, rejected }));
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }
}

/// <summary>
/// <c>mpirun -np 2 rewardkit train|score</c> on loopback. Every launch has a hard time limit (<see cref="MpiRun.Limit"/>);
/// skipped with a visible reason when mpirun is absent.
/// </summary>
public class MpiJobTests(MpiRuns runs) : IClassFixture<MpiRuns>
{
    static Dictionary<string, float[]> Weights(string runFolder)
    {
        using var file = SafetensorsFile.Read(Path.Combine(runFolder, "model", "model.safetensors"));
        return file.Names.ToDictionary(n => n, file.ReadFloats);
    }

    /// <summary>
    /// Directions whose exact gradient is zero: the key third of each attention bias (softmax ignores a shift shared by
    /// every key) and the final LayerNorm bias (it moves the chosen and the rejected reward alike, which a pairwise loss
    /// ignores). Their computed gradient is rounding noise, which Adam normalises into steps of up to the learning rate in
    /// any run, so two runs that round differently drift apart there and nowhere else.
    /// </summary>
    static bool ZeroGradient(string name, int index, int length) =>
        name == "transformer.ln_f.bias" || (name.EndsWith(".attn.c_attn.bias", StringComparison.Ordinal) && index >= length / 3 && index < 2 * length / 3);

    [MpiFact]
    public void Two_ranks_train_the_same_weights_as_one_process_at_the_same_global_batch()
    {
        var single = Weights(runs.Single);
        var parallel = Weights(runs.TwoRanks);
        Assert.Equal(single.Keys.Order(), parallel.Keys.Order());
        double worst = 0;
        string worstName = "";
        foreach (var (name, a) in single)
        {
            var b = parallel[name];
            for (int i = 0; i < a.Length; i++)
            {
                if (ZeroGradient(name, i, a.Length)) continue;
                double d = Math.Abs(a[i] - b[i]);
                if (d > worst) { worst = d; worstName = name; }
            }
        }
        Assert.True(worst <= 1e-5, $"after {MpiRuns.Steps} steps the largest difference is {worst:G3} in {worstName}");
    }

    [MpiFact]
    public void A_two_rank_run_records_world_size_in_metrics_and_in_the_model_and_only_rank_0_writes()
    {
        var rows = File.ReadAllLines(Path.Combine(runs.TwoRanks, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(5 + MpiRuns.Steps, rows.Count);   // one row per SFT and reward step: a second writer would double or interleave them
        Assert.All(rows, r => Assert.Equal(2, (int)r["world_size"]!));
        Assert.All(rows.Where(r => !r.ContainsKey("sft_step")), r => Assert.True((double)r["allreduce_ms"]! >= 0));
        Assert.All(File.ReadAllLines(Path.Combine(runs.Single, "metrics.jsonl")), l => Assert.Equal(1, (int)JsonNode.Parse(l)!["world_size"]!));
        var metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(runs.TwoRanks, "model", "rewardkit.json")))!;
        Assert.Contains("world_size: 2", (string)metadata["training_options"]!);
        Assert.Empty(Directory.GetDirectories(runs.TwoRanks, "*.tmp-*"));   // no half-written checkpoint left behind
    }

    [MpiFact]
    public void A_two_rank_run_resumed_from_its_checkpoint_ends_bit_identical_to_an_uninterrupted_one()
    {
        var resumed = runs.Train("resumed", ranks: 2, "--max-steps", "25");
        runs.Train("resumed", ranks: 2, "--resume");
        var uninterrupted = Weights(runs.TwoRanks);
        foreach (var (name, values) in Weights(resumed)) Assert.Equal(uninterrupted[name], values);
        var steps = File.ReadAllLines(Path.Combine(resumed, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!)
            .Where(r => r["sft_step"] is null).Select(r => (int)r["step"]!).ToList();
        Assert.Equal(Enumerable.Range(1, MpiRuns.Steps), steps);
    }

    [MpiFact]
    public void Two_ranks_score_a_file_in_input_order_and_a_killed_job_resumes_without_rescoring()
    {
        var model = Path.Combine(runs.Single, "model");
        var input = Path.Combine(runs.Folder, "score.jsonl");
        File.WriteAllLines(input, Enumerable.Range(0, 600).Select(i => i % 3 == 2
            ? JsonSerializer.Serialize(new { id = i, prompt = $"Tell me about tea, number {i}.", chosen = "Sure, happy to help!", rejected = "No." })
            : JsonSerializer.Serialize(new { id = i, prompt = $"Tell me about chess, number {i}.", response = i % 2 == 0 ? "Whatever." : "Sure, here is a clear answer." })));
        var reference = Path.Combine(runs.Folder, "score-single.jsonl");
        Assert.Equal(0, MpiRun.Run(0, ["score", "--model", model, "--data", input, "--out", reference]).ExitCode);
        var full = File.ReadAllLines(reference);

        // A job killed while writing: 250 complete lines and half of the next.
        var output = Path.Combine(runs.Folder, "score-two-ranks.jsonl");
        File.WriteAllText(output, string.Join("\n", full.Take(250)) + "\n" + full[250][..(full[250].Length / 2)]);
        var run = MpiRun.Run(2, ["score", "--model", model, "--data", input, "--out", output]);
        Assert.True(run.ExitCode == 0, run.All);
        Assert.Contains("resumed: 250 rows", run.All);
        Assert.Contains("scored 350 rows on 2 ranks", run.All);

        var lines = File.ReadAllLines(output);
        Assert.Equal(full.Length, lines.Length);
        for (int i = 0; i < full.Length; i++)
        {
            var (a, b) = (JsonNode.Parse(full[i])!.AsObject(), JsonNode.Parse(lines[i])!.AsObject());
            Assert.Equal(i, (int)b["id"]!);
            Assert.Equal(a.Select(kv => kv.Key), b.Select(kv => kv.Key));
            foreach (var (key, value) in a)
                if (value is JsonValue v && v.TryGetValue<double>(out var x)) Assert.Equal(x, (double)b[key]!, 5);
                else Assert.Equal(value!.ToJsonString(), b[key]!.ToJsonString());
        }
    }

    [MpiFact]
    public void A_rank_that_hangs_ends_the_job_with_a_message_naming_it()
    {
        var (run, _) = TrainAndSignal(rank: 1, "STOP");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Matches("rank 1 (did not reach collective|reached collective .* but sent no heartbeat)", run.All);
    }

    [MpiFact]
    public void A_rank_that_dies_ends_the_job_with_a_message_naming_it()
    {
        var (run, _) = TrainAndSignal(rank: 1, "KILL");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Matches("rank 1 .*exited on signal 9", run.All);
    }

    [MpiFact]
    public void A_rank_that_reads_other_data_stops_the_job_with_a_message_naming_it()
    {
        var other = Path.Combine(runs.Folder, "other-pairs.jsonl");
        MpiRuns.WritePairs(other, 160, seed: 2);
        var output = Path.Combine(runs.Folder, "mismatch");
        string[] Args(string data) => ["train", "--data", data, "--config", runs.Config, "--out", output];
        var run = MpiRun.RunPerRank([Args(runs.Pairs), Args(other)]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("the training data's sha256", run.All);
        Assert.Contains("on rank 1", run.All);
        Assert.False(File.Exists(Path.Combine(output, "model", "model.safetensors")));
    }

    [MpiFact]
    public void A_verb_that_does_not_run_as_an_MPI_job_refuses_to_start_under_mpirun()
    {
        var run = MpiRun.Run(2, ["eval", "--model", "no-such-model", "--data", runs.Pairs]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'eval' does not run under mpirun (2 ranks)", run.All);
    }

    /// <summary>Starts a long 2-rank training, waits for its first metrics rows, sends <paramref name="signal"/> to one rank and waits for the end.</summary>
    (LaunchResult Run, int Pid) TrainAndSignal(int rank, string signal)
    {
        var output = Path.Combine(runs.Folder, $"fault-{signal}-{rank}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = MpiRun.Start(2, ["train", "--data", runs.Pairs, "--config", runs.Config, "--out", output, "--max-steps", "1000000"],
            new Dictionary<string, string> { ["REWARDKIT_MPI_TIMEOUT"] = "4" }, stdout, stderr);
        var metrics = Path.Combine(output, "metrics.jsonl");
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(metrics) && File.ReadAllLines(metrics).Length >= 3))
        {
            if (process.HasExited || clock.Elapsed > MpiRun.Limit) Assert.Fail($"the job did not start training:\n{stdout}\n{stderr}");
            Thread.Sleep(100);
        }
        int pid = MpiRun.RankPid(process, rank) ?? throw new InvalidOperationException($"rank {rank}'s process not found");
        MpiRun.Signal(pid, signal);
        try { return (MpiRun.Finish(process, stdout, stderr), pid); }
        finally { MpiRun.Signal(pid, "KILL"); }   // a stopped rank that outlived the job
    }
}
