using System.Diagnostics;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Reports;
using RewardKit.Rl;
using RewardKit.Tensors.Kernels;
using RewardKit.Training;

namespace RewardKit.Quickstart;

/// <summary>What <see cref="RlLab.Run"/> produced.</summary>
/// <param name="RewardModelDirectory">The reward model (the proxy).</param>
/// <param name="SftPolicyDirectory">The SFT policy every curve starts from.</param>
/// <param name="Ppo">Gold and proxy reward against √KL of the PPO checkpoints.</param>
/// <param name="BestOfN">The same for best-of-n of the SFT policy.</param>
/// <param name="HeldOutPrompts">Held-out prompts every evaluation used (at most <see cref="RlLabOptions.HeldOutPrompts"/>: the test split may have fewer).</param>
/// <param name="PpoSteps">PPO steps taken (fewer than asked when the gold/proxy gap stopped the run).</param>
/// <param name="StoppedOnGoldGap">True when <see cref="RlLabOptions.StopOnGoldGap"/> stopped PPO.</param>
/// <param name="KeptPolicyDirectory">The PPO policy kept: the last, or with early stopping the one of highest gold reward.</param>
/// <param name="Reports">report.html and report.json (OUT/rl).</param>
/// <param name="Seconds">Wall time per stage (reward_model, sft, best_of_n, ppo, total).</param>
public sealed record RlLabResult(string RewardModelDirectory, string SftPolicyDirectory, OverOptimisationCurve Ppo, OverOptimisationCurve BestOfN,
    int HeldOutPrompts, long PpoSteps, bool StoppedOnGoldGap, string KeptPolicyDirectory, IReadOnlyList<string> Reports, IReadOnlyDictionary<string, double> Seconds);

/// <summary>
/// The built-in world as an RLHF lab (<c>rewardkit quickstart --rl</c>; Gao et al. 2023): the quickstart's reward model as the
/// proxy, a tiny SFT policy trained on the chosen responses of the training pairs (ending with end-of-text), PPO against the
/// proxy, and best-of-n of the SFT policy; on held-out world prompts, the world's gold judge scores what each produces, so
/// gold and proxy reward can be put against √KL to the SFT policy and the point where gold stops rising while proxy still
/// rises can be seen. Writes OUT/data, OUT/train (reward model), OUT/rl/sft, OUT/rl/ppo and OUT/rl/report.{html,json}.
/// </summary>
public sealed class RlLab
{
    /// <summary>A lab with <paramref name="options"/> (validated here).</summary>
    public RlLab(RlLabOptions options) => Options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();

    /// <summary>The settings.</summary>
    public RlLabOptions Options { get; }

    /// <summary>Stage lines and the reward-model and SFT training steps.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>The PPO steps.</summary>
    public IProgress<RlProgress>? RlProgress { get; init; }

    /// <summary>Runs every stage into <paramref name="outputDirectory"/>; cancellation throws <see cref="OperationCanceledException"/>.</summary>
    public RlLabResult Run(string outputDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        var seconds = new Dictionary<string, double>();
        var total = Stopwatch.StartNew();
        var stage = Stopwatch.StartNew();
        var rewardModel = RewardModel(outputDirectory, cancellationToken);
        seconds["reward_model"] = stage.Elapsed.TotalSeconds;
        stage.Restart();
        var rlDir = Path.Combine(outputDirectory, "rl");
        var sft = SftPolicy(outputDirectory, rewardModel, cancellationToken);
        seconds["sft"] = stage.Elapsed.TotalSeconds;
        var dataDir = Path.Combine(outputDirectory, "data");
        var train = PromptFile.Read(Path.Combine(dataDir, "train.jsonl"), cancellationToken: cancellationToken).Prompts.Select(p => p.Prompt).ToList();
        var heldOut = PromptFile.Read(Path.Combine(dataDir, "test.jsonl"), cancellationToken: cancellationToken).Prompts.Take(Options.HeldOutPrompts).Select(p => p.Prompt).ToList();
        using var pool = new WorkerPool(Options.RewardModel.Threads);
        using var model = ModelLoading.Load(rewardModel);
        var scorer = new RewardScorer(model, new RewardScorerOptions { BatchSize = 32 });

        stage.Restart();
        Say($"best-of-n: {Options.MaxBestOfN} samples of the SFT policy for each of {heldOut.Count} held-out prompts");
        var bestOfN = BestOfNCurve(Policy.Load(sft), scorer, heldOut, pool, cancellationToken);
        seconds["best_of_n"] = stage.Elapsed.TotalSeconds;

        stage.Restart();
        var ppo = new PpoRun(this, sft, RewardModelFolder.Load(rewardModel).Model, scorer, pool, Path.Combine(rlDir, "ppo"));
        var (ppoCurve, steps, stopped, kept) = ppo.Run(train, heldOut, cancellationToken);
        seconds["ppo"] = stage.Elapsed.TotalSeconds;
        seconds["total"] = total.Elapsed.TotalSeconds;

        var result = new RlLabResult(rewardModel, sft, ppoCurve, bestOfN, heldOut.Count, steps, stopped, kept, [], seconds);
        var reports = RlLabReport.Write(result, Options, rlDir);
        return result with { Reports = reports };
    }

    internal void Say(string message) => Progress?.Report(new TrainingProgress(TrainingStage.Preparing, 0, 0, double.NaN, 0, message));

    /// <summary>Trains the quickstart's reward model (OUT/data, OUT/train, OUT/report), or checks the given one and the world data beside it.</summary>
    string RewardModel(string outputDirectory, CancellationToken ct)
    {
        if (Options.RewardModelDirectory is { } given)
        {
            foreach (var file in new[] { "train.jsonl", "test.jsonl" }.Select(f => Path.Combine(outputDirectory, "data", f)))
                if (!File.Exists(file))
                    throw new FileNotFoundException($"{file}: the lab reads the world's prompts from OUT/data; run `rewardkit quickstart --out {outputDirectory}` first or drop --reward-model.", file);
            Say($"reward model: {given} (given)");
            return given;
        }
        Say("reward model: the quickstart's (generate the world, train, calibrate, evaluate)");
        var run = QuickstartPipeline.Run(Options.RewardModel, outputDirectory, Progress, ct);
        ct.ThrowIfCancellationRequested();
        var r = run.Evaluation!.Report;
        Say($"    reward model test accuracy {r.Accuracy.Value:F4} vs Bayes-optimal {run.BayesOptimalAccuracy:F4}");
        return run.ModelDirectory!;
    }

    /// <summary>Trains the tiny SFT policy on the chosen responses of the training pairs with the reward model's tokenizer and template (OUT/rl/sft).</summary>
    string SftPolicy(string outputDirectory, string rewardModel, CancellationToken ct)
    {
        if (Options.SftPolicyDirectory is { } given)
        {
            Say($"SFT policy: {given} (given)");
            return given;
        }
        Say($"SFT policy: {Options.SftSteps} steps on the chosen responses of the training pairs, each ending with end-of-text");
        var options = new SftOptions
        {
            Tokenizer = rewardModel, Template = RewardModelMetadata.Load(rewardModel).Template, MaxSteps = Options.SftSteps,
            Seed = Options.RewardModel.Seed, Threads = Options.RewardModel.Threads,
        };
        var result = new PolicySftTrainer(options) { Progress = Progress }
            .Train([Path.Combine(outputDirectory, "data", "train.jsonl")], Path.Combine(outputDirectory, "rl", "sft"), ct);
        ct.ThrowIfCancellationRequested();
        return result.PolicyDirectory!;
    }

    /// <summary>Best-of-n of <paramref name="policy"/> for n = 1, 2, 4, ..., from <see cref="RlLabOptions.MaxBestOfN"/> samples per prompt.</summary>
    OverOptimisationCurve BestOfNCurve(Policy policy, RewardScorer scorer, IReadOnlyList<string> prompts, WorkerPool pool, CancellationToken ct)
    {
        var sampling = new SamplingOptions { MaxNewTokens = Options.Ppo.MaxNewTokens, Temperature = Options.Ppo.Temperature, Seed = Options.Ppo.EvalSeed };
        var samples = BestOfN.SampleAndScore(policy, scorer, prompts, Options.MaxBestOfN, sampling, 32, pool, cancellationToken: ct);
        var points = Options.BestOfNSizes().Select(n => new CurvePoint($"n = {n}", BestOfN.AnalyticKl(n),
            samples.Average(s => BestOfN.ExpectedBest(s.Proxy, s.Proxy, n)),
            samples.Average(s => BestOfN.ExpectedBest(s.Proxy, s.Gold ?? throw new InvalidDataException($"best-of-n: '{s.Prompt}' is not a world prompt; the lab needs the world's gold judge."), n)),
            N: n)).ToList();
        return new OverOptimisationCurve("best_of_n", points, Options.Tolerance);
    }
}
