using System.CommandLine;
using System.Runtime.InteropServices;
using RewardKit.Distributed;
using RewardKit.Training;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit train</c>: Train a reward model on preference data.</summary>
public static class TrainCommand
{
    /// <summary>
    /// The <c>train</c> verb: <c>--data</c>, <c>--eval-data</c>, <c>--out</c> and <c>--config</c>, plus one flag per
    /// training option, made from <see cref="RewardTrainingOptions.Descriptors"/> (flag names, help text, allowed values and
    /// defaults all come from the options record). Flags override the YAML config, which overrides the defaults.
    /// </summary>
    public static Command Create()
    {
        var data = new Option<FileInfo[]>("--data")
        {
            Description = "Training data (JSONL, CSV or Parquet): pairs, rankings (every two different ranks make a pair) or ratings (two ratings of one prompt make a pair). Repeat --data to train on several files together.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var evalData = new Option<FileInfo?>("--eval-data") { Description = "Validation pairs, evaluated every eval_every steps and at the end; the best model is kept." };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Output folder: model/, checkpoint/, metrics.jsonl.", Required = true };
        var config = new Option<FileInfo?>("--config") { Description = "Training options as YAML (snake_case keys, e.g. learning_rate: 0.001); flags override it." };
        var command = new Command("train", "Train a reward model on preference data.") { data, evalData, outDir, config };
        var flags = RewardTrainingOptions.Descriptors.Where(d => !d.IsRecorded).Select(d => (Descriptor: d, Option: FlagFor(d))).ToArray();
        foreach (var (_, option) in flags) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var options = parse.GetValue(config) is { } file ? RewardTrainingOptions.LoadYaml(file.FullName) : new RewardTrainingOptions();
            foreach (var (descriptor, option) in flags)
            {
                if (parse.GetResult(option) is null) continue;
                string? text = option is Option<bool> flag ? (parse.GetValue(flag) ? "true" : "false") : parse.GetValue((Option<string>)option);
                if (descriptor.Key == "init" && text is not null) text = ScoringCli.ResolveModel(text);   // a folder or a Hub id
                try { options = descriptor.With(options, descriptor.IsPath && !string.IsNullOrWhiteSpace(text) ? Path.GetFullPath(text) : text); }
                catch (ArgumentException e) { throw new ArgumentException($"{descriptor.Flags[0]}: {e.Message}", e); }
            }
            if (options.Init is { } init && !Path.IsPathRooted(init)) options = options with { Init = ScoringCli.ResolveModel(init) };   // from --config
            return Run(options, [.. parse.GetValue(data)!.Select(f => f.FullName)], parse.GetValue(evalData)?.FullName, parse.GetValue(outDir)!.FullName);
        });
        return command;
    }

    /// <summary>The flag of one training option, with its names and full help; a true/false option is a switch (<c>--resume</c> alone means true).</summary>
    static Option FlagFor(TrainingOptionDescriptor descriptor)
    {
        string[] aliases = [.. descriptor.Flags.Skip(1)];
        if (descriptor.IsSwitch) return new Option<bool>(descriptor.Flags[0], aliases) { Description = descriptor.FullHelp };
        return new Option<string>(descriptor.Flags[0], aliases)
        {
            Description = descriptor.FullHelp,
            HelpName = descriptor.AllowedValues is { } values ? string.Join("|", values) : null,
        };
    }

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
            var result = TrainingProgressDisplay.Run(progress =>
                new RewardTrainer(options) { Progress = progress, Communicator = communicator }.Train(data, evalData, outDir, cts.Token));
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

    static void PrintSummary(TrainingResult result)
    {
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
}
