using System.CommandLine;
using RewardKit.Data;
using RewardKit.Data.World;
using RewardKit.Evaluation;
using RewardKit.Inference;
using RewardKit.Training;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit quickstart [--out DIR]</c>: the README's main job on the built-in preference world: generate the data, train a
/// tiny reward model, calibrate it on the validation split, evaluate it on the test split against the Bayes-optimal accuracy
/// beside the length-only and response-only baselines, and write the model and the report.
/// </summary>
public static class QuickstartCommand
{
    public static Command Create()
    {
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for data/, train/ (model, checkpoint, metrics) and report/.", DefaultValueFactory = _ => new DirectoryInfo("quickstart-out") };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the data and of training. Default 1.", DefaultValueFactory = _ => 1 };
        var pairs = new Option<int>("--pairs") { Description = "Training pairs of the generated world (validation and test get a tenth each). Default 20000.", DefaultValueFactory = _ => 20_000 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Optimiser steps of 16 pairs (0 = the `train` default of 3 epochs, 10770 steps on the default world's pairs, rankings and ratings). Default 0.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Worker threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var command = new Command("quickstart", "Generate the built-in preference data, train a small reward model, calibrate and evaluate it, and write a report.")
        {
            outDir, seed, pairs, maxSteps, threads,
        };
        command.SetAction(parse =>
        {
            var root = parse.GetValue(outDir)!.FullName;
            int n = parse.GetValue(pairs);
            if (n < 100) throw new ArgumentException($"--pairs {n}: the world needs at least 100 training pairs.");
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                var started = DateTime.UtcNow;
                var dataDir = Path.Combine(root, "data");
                Console.WriteLine($"1/4 generating the preference world in {dataDir}");
                var world = PreferenceWorld.Generate(dataDir, new WorldOptions { Seed = parse.GetValue(seed), TrainPairs = n, ValidationPairs = n / 10, TestPairs = n / 10 },
                    cancellationToken: cts.Token);
                var bayes = world["test"].BayesOptimalAccuracy;
                Console.WriteLine($"    {world["train"].Pairs} / {world["validation"].Pairs} / {world["test"].Pairs} pairs; Bayes-optimal test accuracy {bayes:F4}");

                // All the world's preference data of the training split: its pairs, its rankings (every two different ranks make
                // a pair) and its ratings (two different ratings of one prompt make a pair): 57k pairs on the default world
                // instead of 20k. With the `train` defaults (3 epochs) they lift held-out accuracy by ~4 points on a 20k-pair
                // sample of the same world (bench/world-accuracy-notes.md, session 16).
                string[] trainFiles = [.. new[] { "train.jsonl", "rankings-train.jsonl", "ratings-train.jsonl" }.Select(f => Path.Combine(dataDir, f))];
                Console.WriteLine("2/4 training a tiny reward model on the pairs, rankings and ratings (SFT warm start on the chosen responses, then Bradley-Terry)");
                var options = new RewardTrainingOptions { Seed = parse.GetValue(seed), MaxSteps = parse.GetValue(maxSteps), Threads = parse.GetValue(threads) };
                var trainDir = Path.Combine(root, "train");
                var result = TrainCommand.TrainWithProgress(options, trainFiles, Path.Combine(dataDir, "validation.jsonl"), trainDir, cts.Token);
                if (result.Cancelled || result.ModelDirectory is null)
                {
                    Console.WriteLine($"stopped; checkpoint in {result.CheckpointDirectory}.");
                    return CliApp.UserError;
                }

                Console.WriteLine("3/4 calibrating on the validation split (temperature scaling)");
                var calibration = Calibrator.Calibrate(result.ModelDirectory, Path.Combine(dataDir, "validation.jsonl"), cancellationToken: cts.Token);
                Console.WriteLine($"    T = {calibration.Fit.Temperature:F3}; validation ECE {calibration.EceBefore:F4} -> {calibration.EceAfter:F4}");

                Console.WriteLine("4/4 evaluating on the held-out test split");
                using var model = ModelLoading.Load(result.ModelDirectory);
                var evaluation = ModelEvaluation.Run(new RewardScorer(model, new RewardScorerOptions { BatchSize = 32 }),
                    [Path.Combine(dataDir, "test.jsonl")], cancellationToken: cts.Token);
                var trainPairs = trainFiles.SelectMany(f => PreferenceReader.ReadAllPairs(f, cancellationToken: cts.Token).Pairs).ToList();   // the model's training data
                var (testPairs, _) = PreferenceReader.ReadAllPairs(Path.Combine(dataDir, "test.jsonl"), cancellationToken: cts.Token);
                var responseOnly = ResponseOnlyBaseline.Fit(trainPairs.Select(p => (p.Chosen, p.Rejected)).ToList(), cancellationToken: cts.Token);
                evaluation.Report.ResponseOnlyBaselineAccuracy = responseOnly.Accuracy(testPairs.Select(p => (p.Chosen, p.Rejected)).ToList());
                var written = ModelEvaluation.WriteReports(evaluation, ModelEvaluation.FindMetricsLog(result.ModelDirectory), Path.Combine(root, "report"));
                EvalCommand.PrintSummary(evaluation);
                var r = evaluation.Report;
                Console.WriteLine($"test accuracy {r.Accuracy.Value:F4} vs Bayes-optimal {bayes:F4} (gap {100 * (bayes - r.Accuracy.Value):F1} points); length-only baseline {r.LengthBias.LengthBaselineAccuracy:F4}; "
                    + $"response-only baseline (bag of words, no prompt) {r.ResponseOnlyBaselineAccuracy:F4}");
                Console.WriteLine($"model: {result.ModelDirectory}");
                foreach (var path in written) Console.WriteLine($"report: {path}");
                Console.WriteLine($"done in {(DateTime.UtcNow - started).TotalSeconds:F0} s");
                return CliApp.Success;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
    }
}
