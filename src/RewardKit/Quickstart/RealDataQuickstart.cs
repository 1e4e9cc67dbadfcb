using System.Diagnostics;
using RewardKit.Data;
using RewardKit.Evaluation;
using RewardKit.Inference;
using RewardKit.Training;

namespace RewardKit.Quickstart;

/// <summary>Options of <see cref="RealDataQuickstart.Run"/> (the flags of <c>rewardkit quickstart --real</c>).</summary>
public sealed record RealDataQuickstartOptions
{
    /// <summary>
    /// The folder holding the real preference sets: any of <see cref="RealDataQuickstart.KnownSets"/>
    /// (hh-rlhf-harmless-test.jsonl, pandalm-test.jsonl, oasst-en100-ranked.jsonl). Required.
    /// </summary>
    public string DataDirectory { get; init; } = "";

    /// <summary>The pretrained encoder fine-tuned as a cross-encoder: minilm, arctic-xs or a Hugging Face BERT folder. Default minilm.</summary>
    public string Backbone { get; init; } = "minilm";

    /// <summary>Longest [CLS] prompt [SEP] response [SEP]; longer pairs keep the end of the prompt and the start of the response. Default 128.</summary>
    public int MaxLength { get; init; } = 128;

    /// <summary>Optimiser steps of <see cref="BatchSize"/> pairs (about 0.5 epoch of the three training parts). Default 100.</summary>
    public int MaxSteps { get; init; } = 100;

    /// <summary>Pairs per optimiser step. Default 16.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Peak AdamW learning rate (BERT's fine-tuning range is 2e-5 to 5e-5). Default 3e-5.</summary>
    public double LearningRate { get; init; } = 3e-5;

    /// <summary>Share of each set's prompts held out for the test part. Default 0.2.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Seed of the prompt split and of training. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Worker threads (0 = all cores). Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>The cache of converted packaged backbones (default REWARDKIT_CACHE or ~/.cache/rewardkit).</summary>
    public string? BackboneCache { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad flag and the fix.</summary>
    public RealDataQuickstartOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
            throw new ArgumentException("--data-dir: give the folder of the real preference sets (e.g. ../shared/data).", "--data-dir");
        if (!Directory.Exists(DataDirectory))
            throw new ArgumentException($"--data-dir {DataDirectory}: no such folder; give the folder holding {string.Join(", ", RealDataQuickstart.KnownSets)}.", "--data-dir");
        if (!RealDataQuickstart.KnownSets.Any(f => File.Exists(Path.Combine(DataDirectory, f))))
            throw new ArgumentException($"--data-dir {DataDirectory}: none of {string.Join(", ", RealDataQuickstart.KnownSets)} is in it; give the folder of the shared real sets.", "--data-dir");
        if (MaxSteps < 1) throw new ArgumentException($"--max-steps {MaxSteps}: use a positive count of optimiser steps.", "--max-steps");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size {BatchSize}: use a positive count of pairs.", "--batch-size");
        if (MaxLength < 8) throw new ArgumentException($"--max-length {MaxLength}: use at least 8 tokens (128-256 suit these encoders).", "--max-length");
        if (!(TestFraction > 0 && TestFraction < 1)) throw new ArgumentException($"--test-fraction {TestFraction}: use a share between 0 and 1, e.g. 0.2.", "--test-fraction");
        if (!(LearningRate > 0)) throw new ArgumentException($"--lr {LearningRate}: use a positive learning rate, e.g. 3e-5.", "--lr");
        if (Threads < 0) throw new ArgumentException($"--threads {Threads}: use 0 (all cores) or a positive count.", "--threads");
        return this;
    }
}

/// <summary>One real set's held-out evaluation in <see cref="RealDataQuickstartResult"/>.</summary>
/// <param name="Name">The set's file name without extension.</param>
/// <param name="Split">Its train and test parts (by prompt).</param>
/// <param name="InvalidSkipped">Invalid records of the original file left out of both parts (listed in <see cref="Skipped"/>).</param>
/// <param name="Skipped">The reader's line for each invalid record.</param>
/// <param name="Evaluation">The model on the test part, with the length-only and response-only baselines (fitted on the train part).</param>
public sealed record RealSetEvaluation(string Name, IReadOnlyList<SplitPart> Split, long InvalidSkipped, IReadOnlyList<string> Skipped, ModelEvaluationResult Evaluation);

/// <summary>What <see cref="RealDataQuickstart.Run"/> produced.</summary>
/// <param name="Training">The fine-tuning run (OUT/train).</param>
/// <param name="Sets">Per real set: split and held-out evaluation; empty when training was cancelled.</param>
/// <param name="Reports">report.json, report.md and report.html per set (OUT/report/NAME).</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record RealDataQuickstartResult(TrainingResult Training, IReadOnlyList<RealSetEvaluation> Sets, IReadOnlyList<string> Reports, TimeSpan Elapsed);

/// <summary>
/// A pretrained encoder fine-tuned into a reward model on real human preferences, as one call: split each real set by prompt
/// (OUT/data/NAME/train.jsonl and test.jsonl; invalid records are left out and counted), fine-tune the backbone as a
/// cross-encoder on all the training parts together (OUT/train), and evaluate it on each test part beside the length-only
/// and response-only (bag-of-words) baselines with by-prompt 95% intervals (OUT/report/NAME).
/// </summary>
public static class RealDataQuickstart
{
    /// <summary>The real sets it looks for in <see cref="RealDataQuickstartOptions.DataDirectory"/> (the shared sets' names).</summary>
    public static readonly IReadOnlyList<string> KnownSets = ["hh-rlhf-harmless-test.jsonl", "pandalm-test.jsonl", "oasst-en100-ranked.jsonl"];

    /// <summary>
    /// Runs the three stages into <paramref name="outputDirectory"/>; <paramref name="progress"/> gets each stage's line and
    /// the training steps. Cancellation during training saves a checkpoint (continue with <c>train --resume</c> on OUT/train)
    /// and returns without evaluations.
    /// </summary>
    public static RealDataQuickstartResult Run(RealDataQuickstartOptions options, string outputDirectory, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        options.Validate();
        var clock = Stopwatch.StartNew();
        void Say(string message) => progress?.Report(new TrainingProgress(TrainingStage.Preparing, 0, 0, double.NaN, 0, message));

        Say($"1/3 splitting the real sets in {options.DataDirectory} by prompt ({1 - options.TestFraction:0.##}/{options.TestFraction:0.##}, seed {options.Seed})");
        var splits = new List<(string Name, IReadOnlyList<SplitPart> Parts, ReadReport Report)>();
        foreach (var file in KnownSets.Select(f => Path.Combine(options.DataDirectory, f)).Where(File.Exists))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            var (parts, report) = PromptSplit.Split(file, [1 - options.TestFraction, options.TestFraction], Path.Combine(outputDirectory, "data", name),
                options.Seed, new ReaderOptions { SkipInvalid = true }, cancellationToken: cancellationToken);
            splits.Add((name, parts, report));
            Say($"    {name}: " + string.Join(", ", parts.Select(p => $"{p.Name} {p.Records} records / {p.Prompts} prompts")) + $"; {report.SkippedCount} invalid records left out");
            foreach (var line in report.Skipped) Say($"      invalid (left out): {line}");
        }

        var trainFiles = splits.Select(s => s.Parts[0].Path).ToList();
        Say($"2/3 fine-tuning {options.Backbone} as a cross-encoder on the {trainFiles.Count} training parts ({options.MaxSteps} steps of {options.BatchSize} pairs, max {options.MaxLength} tokens)");
        var training = new RewardTrainer(new RewardTrainingOptions
        {
            Backbone = options.Backbone, BackboneCache = options.BackboneCache, MaxLength = options.MaxLength, MaxSteps = options.MaxSteps,
            BatchSize = options.BatchSize, LearningRate = options.LearningRate, Seed = options.Seed, Threads = options.Threads,
        }) { Progress = progress }.Train(trainFiles, null, Path.Combine(outputDirectory, "train"), cancellationToken);
        if (training.Cancelled || training.ModelDirectory is null) return new RealDataQuickstartResult(training, [], [], clock.Elapsed);

        Say("3/3 evaluating on each held-out part beside the length-only and response-only baselines");
        var sets = new List<RealSetEvaluation>();
        var reports = new List<string>();
        using (var model = ModelLoading.Load(training.ModelDirectory))
        {
            var scorer = new RewardScorer(model, new RewardScorerOptions { BatchSize = 32 });
            foreach (var (name, parts, report) in splits)
            {
                var evaluation = ModelEvaluation.Run(scorer, [parts[1].Path],
                    new ModelEvaluationOptions { ProbePairs = 0, ResponseOnlyBaselineTrainingData = [parts[0].Path] }, cancellationToken: cancellationToken);
                reports.AddRange(ModelEvaluation.WriteReports(evaluation, ModelEvaluation.FindMetricsLog(training.ModelDirectory), Path.Combine(outputDirectory, "report", name)));
                sets.Add(new RealSetEvaluation(name, parts, report.SkippedCount, [.. report.Skipped.Select(s => s.ToString())], evaluation));
            }
        }
        return new RealDataQuickstartResult(training, sets, reports, clock.Elapsed);
    }
}
