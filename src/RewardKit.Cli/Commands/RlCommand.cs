using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RewardKit.Data;
using RewardKit.Distributed;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Reports.Rl;
using RewardKit.Reports;
using RewardKit.Rl;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit rl --algo ppo|reinforce|rloo|trpo --policy DIR --reward-model DIR [--reward-model DIR2 --weights 0.7,0.3]
/// --prompts FILE --out DIR [--eval-prompts FILE] [--max-steps N] [--config rl.yaml] [--json] [--resume] [--seed N]</c>:
/// policy optimisation against reward models (<see cref="RlTrainer"/>); OUT/policy, OUT/metrics.jsonl, OUT/report.html.
/// </summary>
public static class RlCommand
{
    /// <summary>Builds the <c>rl</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var algo = new Option<string>("--algo") { Description = "ppo, reinforce, rloo or trpo (default ppo).", DefaultValueFactory = _ => "ppo" };
        var policy = new Option<string>("--policy") { Description = "The starting policy (GPT2LMHeadModel folder), or a reward-model folder whose backbone starts the policy.", Required = true };
        var rewardModels = new Option<string[]>("--reward-model") { Description = "A reward model folder; repeat for several (combined with --weights).", Required = true, AllowMultipleArgumentsPerToken = false };
        var weights = new Option<string?>("--weights") { Description = "Comma-separated weights of the reward models, e.g. 0.7,0.3 (default equal)." };
        var prompts = new Option<string>("--prompts") { Description = "JSONL with a 'prompt' field per line, or any pairs/rankings/ratings file.", Required = true };
        var evalPrompts = new Option<string?>("--eval-prompts") { Description = "Held-out prompts (default: 5 % of --prompts, chosen by the seed)." };
        var outDir = new Option<string>("--out") { Description = "Output folder: policy/, metrics.jsonl, checkpoint/, report.html.", Required = true };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Rollout + update steps (default 50, or the config's max_steps)." };
        var config = new Option<FileInfo?>("--config") { Description = "RL options as YAML (snake_case keys, e.g. kl_coef: 0.05); flags override it." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of rollouts, prompt order and minibatches (default 1)." };
        var threads = new Option<int>("--threads") { Description = "Worker threads (0 = all cores)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from OUT/checkpoint (after a stop or kill) with the same settings." };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Skip invalid prompt records (counted) instead of stopping at the first." };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON line, last on stdout." };
        var command = new Command("rl", "Optimise a policy against reward models (PPO, REINFORCE, RLOO, TRPO).")
        {
            algo, policy, rewardModels, weights, prompts, evalPrompts, outDir, maxSteps, config, seed, threads, resume, skipInvalid, json,
        };
        command.SetAction((parse, ct) =>
        {
            return Task.FromResult(MpiJob.Run(communicator => Run(parse, communicator, ct)));   // one process, or one rank of mpirun -np N rewardkit rl ...
        });
        return command;

        int Run(ParseResult parse, ICommunicator communicator, CancellationToken ct)
        {
            bool root = communicator.IsRoot();
            var options = parse.GetValue(config) is { } file ? RlOptions.LoadYaml(file.FullName) : new RlOptions();
            options = options with
            {
                Algorithm = ParseAlgorithm(parse.GetValue(algo)!),
                MaxSteps = parse.GetValue(maxSteps) ?? options.MaxSteps,
                Seed = parse.GetValue(seed) ?? options.Seed,
                Threads = parse.GetValue(threads),
                RewardWeights = ParseWeights(parse.GetValue(weights)) ?? options.RewardWeights,
            };
            options.Validate();
            var reader = new ReaderOptions { SkipInvalid = parse.GetValue(skipInvalid) };
            var (train, heldOut) = ReadPrompts(parse.GetValue(prompts)!, parse.GetValue(evalPrompts), reader, options.Seed, ct);
            using var pool = new WorkerPool(options.Threads);
            var start = RlTrainer.OpenPolicy(parse.GetValue(policy)!, out bool fromRewardModel);
            if (fromRewardModel) Console.Error.WriteLine($"policy: started from the backbone of the reward model {parse.GetValue(policy)} (its SFT warm start).");
            var folders = parse.GetValue(rewardModels)!;
            var models = folders.Select(f => ModelLoading.Load(f)).ToList();
            try
            {
                var rewards = new RlRewards([.. models.Select(m => new RewardScorer(m, new RewardScorerOptions { BatchSize = 32 }))], options);
                var critic = options.UsesCritic ? RlTrainer.CriticFor(start, TryLoadGpt(folders[0])) : null;
                var trainer = new RlTrainer(start, rewards, critic, options, pool, communicator);
                var output = parse.GetValue(outDir)!;
                if (root)
                    Console.Error.WriteLine($"rl {options.Algorithm.ToString().ToLowerInvariant()}: {train.Count:N0} training prompts, {heldOut.Count:N0} held out; {options.MaxSteps} steps of {options.PromptsPerStep} prompts x {options.SamplesPerPrompt} samples"
                        + (communicator.Size > 1 ? $"; data-parallel over {communicator.Size} ranks" : ""));
                var result = trainer.Train(train, heldOut, output, parse.GetValue(resume), root ? new Progress() : null, ct);
                if (!root) return CliApp.Success;
                Console.Error.WriteLine();
                AtomicFile.WriteAllText(Path.Combine(output, "report.html"), RlReport.Render(options.Algorithm.ToString(), trainer.Metrics, result));
                Summarise(options, result, output, parse.GetValue(json));
            }
            finally
            {
                foreach (var m in models) m.Dispose();
            }
            return CliApp.Success;
        }
    }

    static RlAlgorithm ParseAlgorithm(string name) => name.ToLowerInvariant() switch
    {
        "ppo" => RlAlgorithm.Ppo,
        "reinforce" => RlAlgorithm.Reinforce,
        "rloo" => RlAlgorithm.Rloo,
        "trpo" => RlAlgorithm.Trpo,
        _ => throw new UserErrorException($"--algo {name}: use ppo, reinforce, rloo or trpo."),
    };

    static double[]? ParseWeights(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        return [.. text.Split(',').Select(w => double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new UserErrorException($"--weights {text}: '{w}' is not a number; write them like 0.7,0.3."))];
    }

    /// <summary>The reward model as a GptRewardModel for the critic, or null when the folder holds another kind (ONNX, int8).</summary>
    static GptRewardModel? TryLoadGpt(string folder)
    {
        try { return RewardModelFolder.Load(folder).Model; }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or KeyNotFoundException or FileNotFoundException) { return null; }
    }

    static (List<string> Train, List<string> HeldOut) ReadPrompts(string path, string? evalPath, ReaderOptions reader, ulong seed, CancellationToken ct)
    {
        var (records, report) = PromptFile.Read(path, reader, ct);
        foreach (var issue in report.Records.Skipped.Take(20)) Console.Error.WriteLine($"skipped {issue}");
        Console.Error.WriteLine($"prompts: {report.Summary()}");
        var all = records.Select(r => r.Prompt).ToList();
        if (evalPath is null) return RlTrainer.HoldOut(all, seed);
        var (evalRecords, evalReport) = PromptFile.Read(evalPath, reader, ct);
        Console.Error.WriteLine($"eval prompts: {evalReport.Summary()}");
        return (all, [.. evalRecords.Select(r => r.Prompt)]);
    }

    static void Summarise(RlOptions options, RlRunResult r, string output, bool json)
    {
        var (b, a) = (r.Before, r.After);
        Console.Error.WriteLine($"held-out proxy reward {b.ProxyReward:0.000} -> {a.ProxyReward:0.000}"
            + (a.GoldReward is { } g ? $", gold reward {b.GoldReward:0.000} -> {g:0.000}" : "") + $", KL {a.Kl:0.00} nats, entropy {a.Entropy:0.00}; {r.Elapsed.TotalSeconds:0} s");
        Console.Error.WriteLine($"policy: {Path.Combine(output, "policy")}  report: {Path.Combine(output, "report.html")}");
        if (!json)
        {
            Console.WriteLine($"{options.Algorithm.ToString().ToLowerInvariant()}: {r.Steps} steps, proxy {b.ProxyReward:0.000} -> {a.ProxyReward:0.000}, KL {a.Kl:0.00}");
            return;
        }
        var summary = new Dictionary<string, object?>
        {
            ["algo"] = options.Algorithm.ToString().ToLowerInvariant(), ["steps"] = r.Steps, ["kl"] = Math.Round(a.Kl, 4),
            ["proxy_reward_before"] = Math.Round(b.ProxyReward, 4), ["proxy_reward_after"] = Math.Round(a.ProxyReward, 4),
        };
        if (b.GoldReward is { } gb && a.GoldReward is { } ga)
        {
            summary["gold_reward_before"] = Math.Round(gb, 4);
            summary["gold_reward_after"] = Math.Round(ga, 4);
        }
        summary["entropy"] = Math.Round(a.Entropy, 4);
        summary["seconds"] = Math.Round(r.Elapsed.TotalSeconds, 1);
        summary["output"] = output;
        Console.WriteLine(JsonSerializer.Serialize(summary));
    }

    /// <summary>The live progress line on stderr: step, reward, KL, entropy, time per phase.</summary>
    sealed class Progress : IProgress<RlProgress>
    {
        public void Report(RlProgress p)
        {
            var row = p.Row;
            Console.Error.Write($"\rstep {p.Step}/{p.MaxSteps} reward {row["objective/scores"]:0.000} KL {row["objective/kl"]:0.000} entropy {row["objective/entropy"]:0.000} "
                + $"approxkl {row["policy/approxkl_avg"]:0.0000} (gen {row["time/generate"]:0.0}s score {row["time/score"]:0.0}s train {row["time/train"]:0.0}s)   ");
        }
    }
}
