using System.CommandLine;
using RewardKit.Quickstart;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit quickstart [--out DIR]</c>: the README's main job on the built-in preference world
/// (<see cref="QuickstartPipeline"/>): generate the data, train a tiny reward model, calibrate it, evaluate it on the test
/// split against the Bayes-optimal accuracy beside the length-only and response-only baselines, and write the model and the report.
/// </summary>
public static class QuickstartCommand
{
    public static Command Create()
    {
        var defaults = new QuickstartOptions();
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for data/, train/ (model, checkpoint, metrics) and report/.", DefaultValueFactory = _ => new DirectoryInfo("quickstart-out") };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the data and of training. Default 1.", DefaultValueFactory = _ => defaults.Seed };
        var pairs = new Option<int>("--pairs") { Description = "Training pairs of the generated world (validation and test get a tenth each). Default 20000.", DefaultValueFactory = _ => defaults.Pairs };
        var maxSteps = new Option<int>("--max-steps") { Description = "Optimiser steps of 16 pairs (0 = the `train` default of 3 epochs, 10770 steps on the default world's pairs, rankings and ratings). Default 0.", DefaultValueFactory = _ => defaults.MaxSteps };
        var threads = new Option<int>("--threads") { Description = "Worker threads (0 = all cores).", DefaultValueFactory = _ => defaults.Threads };
        var command = new Command("quickstart", "Generate the built-in preference data, train a small reward model, calibrate and evaluate it, and write a report.")
        {
            outDir, seed, pairs, maxSteps, threads,
        };
        command.SetAction(parse =>
        {
            var options = new QuickstartOptions
            {
                Seed = parse.GetValue(seed), Pairs = parse.GetValue(pairs), MaxSteps = parse.GetValue(maxSteps), Threads = parse.GetValue(threads),
            }.Validate();
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                var result = TrainingProgressDisplay.Run(progress => QuickstartPipeline.Run(options, parse.GetValue(outDir)!.FullName, progress, cts.Token));
                return Summarise(result);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
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
