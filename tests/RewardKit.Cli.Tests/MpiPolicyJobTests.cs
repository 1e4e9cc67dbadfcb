using System.Text.Json.Nodes;
using RewardKit.Tensors.Safetensors;

namespace RewardKit.Cli.Tests;

/// <summary>
/// <c>mpirun -np 2 rewardkit sft|rl</c> on loopback against the same command in one process, at the same global batch. A
/// few short steps each (every launch has <see cref="MpiRun.Limit"/>); skipped with a visible reason when mpirun is absent.
/// </summary>
public sealed class MpiPolicyJobTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-mpi-policy-" + Guid.NewGuid().ToString("N")[..8]);

    public MpiPolicyJobTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    static Dictionary<string, float[]> Weights(string modelFolder)
    {
        using var file = SafetensorsFile.Read(Path.Combine(modelFolder, "model.safetensors"));
        return file.Names.ToDictionary(n => n, file.ReadFloats);
    }

    /// <summary>
    /// The largest |Δ| between two policies, leaving out the key third of each attention bias: its exact gradient is 0
    /// (softmax ignores a shift shared by every key), so Adam turns either run's rounding noise there into steps of up to
    /// the learning rate (see MpiJobTests).
    /// </summary>
    static (double Worst, string Name) LargestDifference(string a, string b)
    {
        var (x, y) = (Weights(a), Weights(b));
        Assert.Equal(x.Keys.Order(), y.Keys.Order());
        (double, string) worst = (0, "");
        foreach (var (name, values) in x)
            for (int i = 0; i < values.Length; i++)
            {
                if (name.EndsWith(".attn.c_attn.bias", StringComparison.Ordinal) && i >= values.Length / 3 && i < 2 * values.Length / 3) continue;
                double d = Math.Abs(values[i] - y[name][i]);
                if (d > worst.Item1) worst = (d, name);
            }
        return worst;
    }

    static List<JsonObject> Rows(string metrics) => [.. File.ReadAllLines(metrics).Select(l => JsonNode.Parse(l)!.AsObject())];

    string Launch(string verb, int ranks, string name, params string[] args)
    {
        var output = Path.Combine(_dir, name);
        var run = MpiRun.Run(ranks, [verb, .. args, "--out", output]);
        Assert.True(run.ExitCode == 0, $"{verb} ({ranks} ranks) failed:\n{run.All}");
        return output;
    }

    [MpiFact]
    public void Two_ranks_fine_tune_the_same_policy_as_one_process_at_the_same_global_batch()
    {
        var pairs = Path.Combine(_dir, "pairs.jsonl");
        MpiRuns.WritePairs(pairs, 64, seed: 3);
        var config = Path.Combine(_dir, "sft.yaml");
        File.WriteAllText(config, "preset: tiny\nvocab_size: 300\nmax_length: 48\nbatch_size: 8\nmax_steps: 12\nlearning_rate: 0.0002\nwarmup_ratio: 0\nthreads: 1\nseed: 7\n");
        string[] args = ["--data", pairs, "--config", config];
        var single = Launch("sft", 0, "sft-single", args);
        var parallel = Launch("sft", 2, "sft-two-ranks", args);

        var (worst, name) = LargestDifference(Path.Combine(single, "policy"), Path.Combine(parallel, "policy"));
        Assert.True(worst <= 1e-5, $"after 12 SFT steps the largest difference is {worst:G3} in {name}");
        var (one, two) = (Rows(Path.Combine(single, "metrics.jsonl")), Rows(Path.Combine(parallel, "metrics.jsonl")));
        Assert.Equal(12, two.Count);   // rank 0 alone writes
        Assert.All(two, r => Assert.Equal(2, (int)r["world_size"]!));
        for (int i = 0; i < one.Count; i++) Assert.Equal((double)one[i]["loss"]!, (double)two[i]["loss"]!, 4);
    }

    [MpiTheory]
    [InlineData("rloo", true)]
    [InlineData("ppo", false)]
    public void Two_ranks_take_the_same_rl_steps_as_one_process_and_resume_where_they_stopped(string algo, bool resume)
    {
        var (policy, reward, prompts) = TinyModelFolders.PolicyAndRewardModel(Path.Combine(_dir, "models"),
            ["the sea", "a bird", "rain", "the moon", "bread", "a river", "snow", "the wind"]);
        var config = Path.Combine(_dir, "rl.yaml");
        File.WriteAllText(config, "prompts_per_step: 4\nsamples_per_prompt: 2\nmax_new_tokens: 5\nlearning_rate: 0.001\nminibatches: 2\nepochs: 2\nkl_coef: 0.1\n");
        string[] args = ["--algo", algo, "--policy", policy, "--reward-model", reward, "--prompts", prompts, "--max-steps", "3", "--config", config, "--threads", "1", "--json"];
        var single = Launch("rl", 0, algo + "-single", args);
        var parallel = Launch("rl", 2, algo + "-two-ranks", args);

        var (worst, name) = LargestDifference(Path.Combine(single, "policy"), Path.Combine(parallel, "policy"));
        Assert.True(worst <= 1e-5, $"{algo}: after 3 steps the largest difference is {worst:G3} in {name}");
        var (one, two) = (Rows(Path.Combine(single, "metrics.jsonl")), Rows(Path.Combine(parallel, "metrics.jsonl")));
        Assert.Equal(4, two.Count);   // 3 steps and the final evaluation, from rank 0 alone
        Assert.All(two, r => Assert.Equal(2, (int)r["world_size"]!));
        foreach (var key in new[] { "objective/scores", "objective/kl", "objective/rlhf_reward", "loss/policy_avg", "policy/approxkl_avg", "val/num_eos_tokens" })
            for (int i = 0; i < 3; i++) Assert.Equal((double)one[i][key]!, (double)two[i][key]!, 4);
        Assert.Equal((double)one[3]["eval/proxy_reward"]!, (double)two[3]["eval/proxy_reward"]!, 4);
        if (!resume) return;

        // Stopped after 2 steps, then resumed (rank 0 reads the checkpoint and broadcasts it): the uninterrupted run's weights, bit for bit.
        string[] split = [.. args.Select(a => a == "3" ? "2" : a)];
        var resumed = Launch("rl", 2, algo + "-resumed", split);
        Launch("rl", 2, algo + "-resumed", [.. args, "--resume"]);
        var (uninterrupted, again) = (Weights(Path.Combine(parallel, "policy")), Weights(Path.Combine(resumed, "policy")));
        foreach (var (tensor, values) in uninterrupted) Assert.Equal(values, again[tensor]);
    }

    [MpiFact]
    public void Trpo_refuses_to_run_on_several_ranks_with_a_message_saying_what_to_do()
    {
        var (policy, reward, prompts) = TinyModelFolders.PolicyAndRewardModel(Path.Combine(_dir, "models"), ["the sea", "a bird", "rain"]);
        var run = MpiRun.Run(2, ["rl", "--algo", "trpo", "--policy", policy, "--reward-model", reward, "--prompts", prompts, "--out", Path.Combine(_dir, "trpo"), "--max-steps", "1"]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("run it without mpirun", run.All);
    }
}
