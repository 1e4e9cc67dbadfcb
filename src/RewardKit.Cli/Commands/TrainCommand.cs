using System.CommandLine;
using System.Runtime.InteropServices;
using RewardKit.Distributed;
using RewardKit.Training;
using Spectre.Console;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit train</c>: Train a reward model on preference data.</summary>
public static class TrainCommand
{
    /// <summary>The <c>train</c> verb: binds flags (over an optional YAML config) to <see cref="RewardTrainingOptions"/> and runs <see cref="RewardTrainer"/>.</summary>
    public static Command Create()
    {
        var data = new Option<FileInfo[]>("--data")
        {
            Description = "Training data (JSONL or CSV): pairs, rankings (every two different ranks make a pair) or ratings (two ratings of one prompt make a pair). Repeat --data to train on several files together.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var evalData = new Option<FileInfo?>("--eval-data") { Description = "Validation pairs, evaluated every eval_every steps and at the end; the best model is kept." };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Output folder: model/, checkpoint/, metrics.jsonl.", Required = true };
        var config = new Option<FileInfo?>("--config") { Description = "Training options as YAML (snake_case keys, e.g. learning_rate: 0.001); flags override it." };
        var preset = new Option<string?>("--preset") { Description = "Model size: tiny (2 layers, d 128), small (4, 256) or base (GPT-2 124M). Default tiny." };
        preset.AcceptOnlyFromAmong("tiny", "small", "base");
        var init = new Option<DirectoryInfo?>("--init") { Description = "Start from a GPT-2 checkpoint or RewardKit model folder (its tokenizer is used)." };
        var tokenizer = new Option<DirectoryInfo?>("--tokenizer") { Description = "A tokenizer folder to use instead of training a BPE tokenizer on the data." };
        var loss = new Option<string?>("--loss") { Description = "Objective: bradley-terry (default), contrastive, hinge or focal." };
        loss.AcceptOnlyFromAmong("bradley-terry", "contrastive", "hinge", "focal");
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop after N optimiser steps (overrides --epochs)." };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the training data. Default 3." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Pairs per micro-batch. Default 16." };
        var lr = new Option<double?>("--lr") { Description = "Peak AdamW learning rate of the reward training. Default 2e-4." };
        var sftSteps = new Option<int?>("--sft-steps") { Description = "SFT warm-start steps (causal LM on the chosen responses) before reward training; 0 = off. Default 40 % of the reward steps from scratch, 0 with --init." };
        var maxLength = new Option<int?>("--max-length") { Description = "Maximum tokens of prompt + response. Default 128." };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (0 = all cores); results are identical for a fixed count." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of initialisation, shuffling and dropout. Default 42." };
        var resume = new Option<bool>("--resume") { Description = "Continue from OUT/checkpoint (bit-identical to an uninterrupted run with the same seed and threads)." };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Skip invalid records (they are listed) instead of stopping at the first." };

        var command = new Command("train", "Train a reward model on preference data.")
        {
            data, evalData, outDir, config, preset, init, tokenizer, loss, maxSteps, epochs, batchSize, lr, sftSteps, maxLength, threads, seed, resume, skipInvalid,
        };
        command.SetAction(parse =>
        {
            var options = parse.GetValue(config) is { } file ? RewardTrainingOptions.LoadYaml(file.FullName) : new RewardTrainingOptions();
            options = options with
            {
                Preset = parse.GetValue(preset) ?? options.Preset,
                Init = parse.GetValue(init)?.FullName ?? options.Init,
                Tokenizer = parse.GetValue(tokenizer)?.FullName ?? options.Tokenizer,
                Loss = parse.GetValue(loss) is { } l ? ParseLoss(l) : options.Loss,
                MaxSteps = parse.GetValue(maxSteps) ?? options.MaxSteps,
                Epochs = parse.GetValue(epochs) ?? options.Epochs,
                BatchSize = parse.GetValue(batchSize) ?? options.BatchSize,
                LearningRate = parse.GetValue(lr) ?? options.LearningRate,
                SftSteps = parse.GetValue(sftSteps) ?? options.SftSteps,
                MaxLength = parse.GetValue(maxLength) ?? options.MaxLength,
                Threads = parse.GetValue(threads) ?? options.Threads,
                Seed = parse.GetValue(seed) ?? options.Seed,
                Resume = parse.GetValue(resume) || options.Resume,
                SkipInvalid = parse.GetValue(skipInvalid) || options.SkipInvalid,
            };
            return Run(options, [.. parse.GetValue(data)!.Select(f => f.FullName)], parse.GetValue(evalData)?.FullName, parse.GetValue(outDir)!.FullName);
        });
        return command;
    }

    static RewardLossKind ParseLoss(string name) => name switch
    {
        "contrastive" => RewardLossKind.Contrastive,
        "hinge" => RewardLossKind.Hinge,
        "focal" => RewardLossKind.Focal,
        _ => RewardLossKind.BradleyTerry,
    };

    /// <summary>SIGUSR1 on Linux (a raw signal number: .NET names only the portable signals).</summary>
    const PosixSignal SigUsr1 = (PosixSignal)10;

    /// <summary>Trains in this process, or as one rank of <c>mpirun -np N rewardkit train ...</c> (see <see cref="MpiJob"/>).</summary>
    static int Run(RewardTrainingOptions options, IReadOnlyList<string> data, string? evalData, string outDir) =>
        MpiJob.Run(communicator => Run(options, data, evalData, outDir, communicator));

    static int Run(RewardTrainingOptions options, IReadOnlyList<string> data, string? evalData, string outDir, ICommunicator communicator)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;   // finish the step, save a checkpoint, exit cleanly
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        // Under mpirun, Ctrl+C reaches mpirun, which kills the ranks; mpirun forwards SIGUSR1 to every rank instead, and
        // SIGTERM is what it sends first when it ends a job: both ask for the same clean stop (the ranks agree on the step,
        // rank 0 saves the checkpoint).
        using var onUsr1 = communicator.Size > 1 ? PosixSignalRegistration.Create(SigUsr1, StopCleanly) : null;
        using var onTerm = communicator.Size > 1 ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopCleanly) : null;
        void StopCleanly(PosixSignalContext context)
        {
            context.Cancel = true;
            cts.Cancel();
        }
        try
        {
            var result = TrainWithProgress(options, data, evalData, outDir, cts.Token, communicator);
            PrintSummary(result);
            return CliApp.Success;
        }
        catch (TrainingDivergedException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return CliApp.UserError;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Runs <see cref="RewardTrainer"/> under a Spectre progress bar with ETA, printing start-up checks and evaluations as they come.</summary>
    internal static TrainingResult TrainWithProgress(RewardTrainingOptions options, IReadOnlyList<string> data, string? evalData, string outDir, CancellationToken cancellationToken,
        ICommunicator? communicator = null)
    {
            TrainingResult? result = null;
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("preparing", autoStart: true, maxValue: 1);
                    var progress = new Reporter(p =>
                    {
                        if (p.Message is not null) AnsiConsole.MarkupLine(Markup.Escape(p.Message));
                        if (p.TotalSteps > 0)
                        {
                            task.MaxValue = p.TotalSteps;
                            task.Value = p.Step;
                            var what = p.Stage == TrainingStage.WarmStart ? "sft step" : "step";
                            task.Description = double.IsNaN(p.Loss) ? $"{what} {p.Step}/{p.TotalSteps}" : $"{what} {p.Step}/{p.TotalSteps} loss {p.Loss:F4} lr {p.LearningRate:G3}";
                        }
                    });
                    result = new RewardTrainer(options) { Progress = progress, Communicator = communicator ?? SingleProcessCommunicator.Instance }
                        .Train(data, evalData, outDir, cancellationToken);
                });
        return result!;
    }

    static void PrintSummary(TrainingResult result)
    {
        if (result.Cancelled && !result.CheckpointWritten)
        {
            Console.WriteLine("stopped during the SFT warm start, before the first checkpoint; nothing to resume: run the same command again without --resume.");
            return;
        }
        if (result.Cancelled)
        {
            Console.WriteLine($"stopped at step {result.Steps}; checkpoint saved in {result.CheckpointDirectory}. Continue with the same command and --resume.");
            return;
        }
        Console.WriteLine($"trained {result.Steps} steps{(result.StoppedEarly ? " (early stopping)" : "")}; model (step {result.BestStep}) in {result.ModelDirectory}");
        string Row(IReadOnlyDictionary<string, double> m) => string.Join("  ", m.Where(kv => kv.Key != "step").Select(kv => $"{kv.Key} {kv.Value:G4}"));
        if (result.FinalTrainMetrics.Count > 0) Console.WriteLine($"last step:  {Row(result.FinalTrainMetrics)}");
        if (result.BestEvalMetrics.Count > 0) Console.WriteLine($"best eval:  {Row(result.BestEvalMetrics)}");
    }

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
