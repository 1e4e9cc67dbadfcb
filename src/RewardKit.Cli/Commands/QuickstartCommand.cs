using System.CommandLine;
using System.Text.Json;
using RewardKit.Evaluation;
using RewardKit.Quickstart;
using RewardKit.Reports;
using RewardKit.Rl;
using RewardKit.Training;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit quickstart [--out DIR]</c>: the README's main job on the built-in preference world
/// (<see cref="QuickstartPipeline"/>): generate the data, train a tiny reward model, calibrate it, evaluate it on the test
/// split against the Bayes-optimal accuracy beside the length-only and response-only baselines, and write the model and the report.
/// With <c>--rl</c>, then the RLHF lab (<see cref="RlLab"/>): an SFT policy, PPO against the reward model and best-of-n, with
/// gold and proxy reward against √KL in OUT/rl/report.html and report.json. With <c>--real</c>, instead: a pretrained encoder
/// fine-tuned on the real preference sets and evaluated on their held-out parts (<see cref="RealDataQuickstart"/>).
/// </summary>
public static class QuickstartCommand
{
    /// <summary>Builds the <c>quickstart</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var defaults = new QuickstartOptions();
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for data/, train/ (model, checkpoint, metrics) and report/.", DefaultValueFactory = _ => new DirectoryInfo("quickstart-out") };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the data and of training. Default 1.", DefaultValueFactory = _ => defaults.Seed };
        var lab = new RlLabOptions();
        var pairs = new Option<int?>("--pairs") { Description = $"Training pairs of the generated world (validation and test get a tenth each). Default {defaults.Pairs} ({lab.RewardModel.Pairs} with --rl)." };
        var maxSteps = new Option<int?>("--max-steps") { Description = $"Optimiser steps of 16 pairs (0 = the `train` default of 3 epochs, 10770 steps on the default world's pairs, rankings and ratings). Default {defaults.MaxSteps} ({lab.RewardModel.MaxSteps} with --rl, {new RealDataQuickstartOptions().MaxSteps} with --real)." };
        var threads = new Option<int>("--threads") { Description = "Worker threads (0 = all cores).", DefaultValueFactory = _ => defaults.Threads };
        var rl = new Option<bool>("--rl") { Description = "Then the RLHF lab: an SFT policy, PPO against the reward model and best-of-n, with gold and proxy reward against √KL (OUT/rl/report.html, report.json)." };
        var sftSteps = new Option<int>("--sft-steps") { Description = $"With --rl: SFT steps of the tiny policy. Default {lab.SftSteps}.", DefaultValueFactory = _ => lab.SftSteps };
        var ppoSteps = new Option<int?>("--ppo-steps") { Description = $"With --rl: PPO steps (default {lab.Ppo.MaxSteps}, or the --rl-config's max_steps)." };
        var klCoef = new Option<double?>("--kl-coef") { Description = $"With --rl: PPO's KL coefficient β (default {lab.Ppo.KlCoefficient}, or the --rl-config's kl_coef)." };
        var evalEvery = new Option<int>("--eval-every") { Description = $"With --rl: PPO steps between held-out evaluations (the points of the PPO curve). Default {lab.EvalEvery}.", DefaultValueFactory = _ => lab.EvalEvery };
        var evalSamples = new Option<int>("--eval-samples") { Description = $"With --rl: samples per held-out prompt in each PPO evaluation. Default {lab.EvalSamplesPerPrompt}.", DefaultValueFactory = _ => lab.EvalSamplesPerPrompt };
        var heldOut = new Option<int>("--held-out-prompts") { Description = $"With --rl: held-out test prompts of every evaluation. Default {lab.HeldOutPrompts}.", DefaultValueFactory = _ => lab.HeldOutPrompts };
        var maxN = new Option<int>("--max-best-of-n") { Description = $"With --rl: the largest n of best-of-n (the curve has 1, 2, 4, ... up to it). Default {lab.MaxBestOfN}.", DefaultValueFactory = _ => lab.MaxBestOfN };
        var stopGap = new Option<double?>("--stop-on-gold-gap") { Description = "With --rl: stop PPO when held-out gold reward falls this far below its best while proxy reward rises, and keep the best policy (the world's gold judge is the oracle). Default off." };
        var rlConfig = new Option<FileInfo?>("--rl-config") { Description = "With --rl: PPO options as YAML (the keys of `rl --config`); the flags above override it." };
        var rewardModel = new Option<string?>("--reward-model") { Description = "With --rl: use this reward model (its world already in OUT/data) instead of training one." };
        var sftPolicy = new Option<string?>("--sft-policy") { Description = "With --rl: start from this policy instead of training the SFT policy." };
        var json = new Option<bool>("--json") { Description = "With --rl: print the lab's report.json summary (curves, gold peaks, times) as one JSON line last." };
        var realDefaults = new RealDataQuickstartOptions();
        var real = new Option<bool>("--real") { Description = "Instead of the built-in world: fine-tune a pretrained encoder on the real preference sets in --data-dir (each split 80/20 by prompt) and evaluate it on each held-out part beside the length-only and response-only baselines." };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "With --real: the folder of the real sets (hh-rlhf-harmless-test.jsonl, pandalm-test.jsonl, oasst-en100-ranked.jsonl). Default ../shared/data." };
        var backbone = new Option<string>("--backbone") { Description = $"With --real: minilm, arctic-xs or a Hugging Face BERT folder. Default {realDefaults.Backbone}.", DefaultValueFactory = _ => realDefaults.Backbone };
        var maxLength = new Option<int>("--max-length") { Description = $"With --real: longest [CLS] prompt [SEP] response [SEP] (the end of the prompt and the start of the response are kept). Default {realDefaults.MaxLength}.", DefaultValueFactory = _ => realDefaults.MaxLength };
        var command = new Command("quickstart", "Generate the built-in preference data, train a small reward model, calibrate and evaluate it, and write a report (with --rl: then the RLHF lab).")
        {
            outDir, seed, pairs, maxSteps, threads, rl, sftSteps, ppoSteps, klCoef, evalEvery, evalSamples, heldOut, maxN, stopGap, rlConfig, rewardModel, sftPolicy, json,
            real, dataDir, backbone, maxLength,
        };
        command.SetAction(parse =>
        {
            bool withRl = parse.GetValue(rl);
            if (parse.GetValue(real) && withRl) throw new UserErrorException("--real and --rl: choose one (the RLHF lab runs on the built-in world, whose gold reward it needs).");
            var sized = withRl ? lab.RewardModel : defaults;
            var options = new QuickstartOptions
            {
                Seed = parse.GetValue(seed), Pairs = parse.GetValue(pairs) ?? sized.Pairs, MaxSteps = parse.GetValue(maxSteps) ?? sized.MaxSteps, Threads = parse.GetValue(threads),
            }.Validate();
            var root = parse.GetValue(outDir)!.FullName;
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                if (parse.GetValue(real))
                {
                    var realOptions = new RealDataQuickstartOptions
                    {
                        DataDirectory = parse.GetValue(dataDir)?.FullName ?? Path.GetFullPath(Path.Combine("..", "shared", "data")),
                        Backbone = parse.GetValue(backbone)!, MaxLength = parse.GetValue(maxLength), MaxSteps = parse.GetValue(maxSteps) ?? realDefaults.MaxSteps,
                        Seed = parse.GetValue(seed), Threads = parse.GetValue(threads),
                    }.Validate();
                    return SummariseReal(TrainingProgressDisplay.Run(progress => RealDataQuickstart.Run(realOptions, root, progress, cts.Token)));
                }
                if (!withRl) return Summarise(TrainingProgressDisplay.Run(progress => QuickstartPipeline.Run(options, root, progress, cts.Token)));
                var ppo = parse.GetValue(rlConfig) is { } file ? RlOptions.LoadYaml(file.FullName) : lab.Ppo;
                var labOptions = lab with
                {
                    RewardModel = options, SftSteps = parse.GetValue(sftSteps), EvalEvery = parse.GetValue(evalEvery), EvalSamplesPerPrompt = parse.GetValue(evalSamples), HeldOutPrompts = parse.GetValue(heldOut),
                    MaxBestOfN = parse.GetValue(maxN), StopOnGoldGap = parse.GetValue(stopGap),
                    RewardModelDirectory = parse.GetValue(rewardModel), SftPolicyDirectory = parse.GetValue(sftPolicy),
                    Ppo = ppo with { MaxSteps = parse.GetValue(ppoSteps) ?? ppo.MaxSteps, KlCoefficient = parse.GetValue(klCoef) ?? ppo.KlCoefficient },
                };
                var result = TrainingProgressDisplay.Run(progress => new RlLab(labOptions) { Progress = progress, RlProgress = new PpoSteps(progress, labOptions.Ppo.MaxSteps) }.Run(root, cts.Token));
                return SummariseLab(result, labOptions, parse.GetValue(json));
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
    }

    static int SummariseLab(RlLabResult result, RlLabOptions options, bool json)
    {
        foreach (var curve in new[] { result.Ppo, result.BestOfN })
        {
            var (peak, last) = (curve.GoldPeak!, curve.Points[^1]);
            Console.WriteLine($"{curve.Method}: gold {curve.Points[0].GoldReward:0.000} -> peak {peak.GoldReward:0.000} at {peak.Label} (√KL {peak.SqrtKl:0.00}) -> {last.GoldReward:0.000} at {last.Label} (√KL {last.SqrtKl:0.00}); "
                + $"proxy {curve.Points[0].ProxyReward:0.000} -> {last.ProxyReward:0.000}{(curve.OverOptimised ? "; over-optimised (gold fell while proxy rose)" : "")}");
        }
        if (result.StoppedOnGoldGap) Console.WriteLine($"PPO stopped on the gold/proxy gap after {result.PpoSteps} steps; kept policy: {result.KeptPolicyDirectory}");
        foreach (var path in result.Reports) Console.WriteLine($"report: {path}");
        Console.WriteLine($"done in {result.Seconds["total"]:F0} s (" + string.Join(", ", result.Seconds.Where(kv => kv.Key != "total").Select(kv => $"{kv.Key} {kv.Value:F0} s")) + ")");
        if (json) Console.WriteLine(JsonSerializer.Serialize(JsonDocument.Parse(RlLabReport.ToJson(result, options)).RootElement));
        return CliApp.Success;
    }

    /// <summary>PPO steps on the same progress bar as the reward model's and the SFT policy's steps (the lab runs PPO in segments, so the total is the run's).</summary>
    sealed class PpoSteps(IProgress<TrainingProgress> bar, long total) : IProgress<RlProgress>
    {
        public void Report(RlProgress p) => bar.Report(new TrainingProgress(TrainingStage.Training, p.Step, total, double.NaN, 0));
    }

    static int SummariseReal(RealDataQuickstartResult result)
    {
        if (result.Sets.Count == 0)
        {
            Console.WriteLine($"stopped; checkpoint in {result.Training.CheckpointDirectory} (continue with `train --resume` and the same options).");
            return CliApp.UserError;
        }
        static string E(Estimate e) => $"{e.Value:F3} [{e.Lower:F3}, {e.Upper:F3}]";
        Console.WriteLine($"{"held-out part",-24} {"pairs",6} {"invalid",7}  {"fine-tuned model",-22} {"length-only",-22} {"response-only (BoW)",-22}");
        foreach (var set in result.Sets)
        {
            var r = set.Evaluation.Report;
            Console.WriteLine($"{set.Name,-24} {r.Pairs,6} {set.InvalidSkipped,7}  {E(r.Accuracy),-22} {E(r.Baselines!["length_only"]),-22} {E(r.Baselines["response_only"]),-22}");
        }
        Console.WriteLine($"model: {result.Training.ModelDirectory}");
        foreach (var path in result.Reports.Where(p => p.EndsWith(".md", StringComparison.Ordinal))) Console.WriteLine($"report: {path}");
        Console.WriteLine($"done in {result.Elapsed.TotalSeconds:F0} s");
        return CliApp.Success;
    }

    static int Summarise(QuickstartResult result)
    {
        if (result.Evaluation is null)
        {
            Console.WriteLine($"stopped; checkpoint in {result.Training.CheckpointDirectory}.");
            return CliApp.UserError;
        }
        EvaluationSummary.Print(result.Evaluation);
        var r = result.Evaluation.Report;
        double bayes = result.BayesOptimalAccuracy;
        Console.WriteLine($"test accuracy {r.Accuracy.Value:F4} vs Bayes-optimal {bayes:F4} (gap {100 * (bayes - r.Accuracy.Value):F1} points); length-only baseline {r.LengthBias.LengthBaselineAccuracy:F4}; "
            + $"response-only baseline (bag of words, no prompt) {r.ResponseOnlyBaselineAccuracy:F4}");
        Console.WriteLine($"model: {result.ModelDirectory}");
        foreach (var path in result.Reports) Console.WriteLine($"report: {path}");
        Console.WriteLine($"done in {result.Elapsed.TotalSeconds:F0} s");
        return CliApp.Success;
    }
}
