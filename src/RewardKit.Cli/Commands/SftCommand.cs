using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RewardKit.Distributed;
using RewardKit.Training;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit sft --data FILE... --out DIR [--init DIR] [--preset tiny|small|base] [--max-steps N] [--config F] [--resume]
/// [--json]</c>: supervised fine-tuning of a policy on prompt/response records or the chosen responses of pairs, each
/// response ended with end-of-text (<see cref="PolicySftTrainer"/>); writes OUT/policy (a GPT2LMHeadModel folder that
/// <c>generate</c> and <c>rl --policy</c> open), OUT/checkpoint and OUT/metrics.jsonl.
/// </summary>
public static class SftCommand
{
    /// <summary>Builds the <c>sft</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var data = new Option<FileInfo[]>("--data")
        {
            Description = "Training data: JSONL prompt/response records, or pairs/rankings files (the chosen / best-ranked response is learned). Repeat for several files.",
            Required = true, Arity = ArgumentArity.OneOrMore,
        };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Output folder: policy/, checkpoint/, metrics.jsonl.", Required = true };
        var init = new Option<string?>("--init") { Description = "Start from a policy, a Hugging Face GPT-2 folder or a reward model (its backbone); default a new --preset model." };
        var preset = new Option<string?>("--preset") { Description = "Shape of a new model: tiny, small or base (default tiny)." };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Optimiser steps (default: one epoch, or the config's max_steps/epochs)." };
        var config = new Option<FileInfo?>("--config") { Description = "SFT options as YAML (snake_case keys, e.g. learning_rate: 0.0003); flags override it." };
        var learningRate = new Option<double?>("--learning-rate") { Description = "Peak learning rate (default 1e-3)." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Sequences per step (default 16)." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of a new model, the data order and dropout (default 1)." };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (0 = all cores)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from OUT/checkpoint (after a stop or kill) with the same data and options." };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Skip invalid records (counted and listed) instead of stopping at the first." };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON line, last on stdout." };
        var command = new Command("sft", "Fine-tune a policy (causal LM) on prompt/response records or the chosen responses of pairs.")
        {
            data, outDir, init, preset, maxSteps, config, learningRate, batchSize, seed, threads, resume, skipInvalid, json,
        };
        command.SetAction((parse, ct) =>
        {
            var options = parse.GetValue(config) is { } file ? SftOptions.LoadYaml(file.FullName) : new SftOptions();
            options = options with
            {
                Init = parse.GetValue(init) is { } i ? Path.GetFullPath(i) : options.Init,
                Preset = parse.GetValue(preset) is { } p ? (ModelPreset)OptionNames.Parse(typeof(ModelPreset), p, "--preset") : options.Preset,
                MaxSteps = parse.GetValue(maxSteps) ?? options.MaxSteps,
                LearningRate = parse.GetValue(learningRate) ?? options.LearningRate,
                BatchSize = parse.GetValue(batchSize) ?? options.BatchSize,
                Seed = parse.GetValue(seed) ?? options.Seed,
                Threads = parse.GetValue(threads) ?? options.Threads,
                Resume = parse.GetValue(resume) || options.Resume,
                SkipInvalid = parse.GetValue(skipInvalid) || options.SkipInvalid,
            };
            var output = parse.GetValue(outDir)!.FullName;
            var files = parse.GetValue(data)!.Select(f => f.FullName).ToArray();
            return Task.FromResult(MpiJob.Run(communicator =>   // one process, or one rank of mpirun -np N rewardkit sft ...
            {
                var trainer = new PolicySftTrainer(options) { Progress = communicator.IsRoot() ? new ProgressLine() : null, Communicator = communicator };
                var result = trainer.Train(files, output, ct);
                if (!communicator.IsRoot()) return result.Cancelled ? CliApp.UserError : CliApp.Success;
                Console.Error.WriteLine();
                Summarise(result, parse.GetValue(json));
                return result.Cancelled ? CliApp.UserError : CliApp.Success;
            }));
        });
        return command;
    }

    static void Summarise(SftResult r, bool json)
    {
        double loss = r.Losses.Count > 0 ? r.Losses[^1] : double.NaN;
        if (r.Cancelled) Console.Error.WriteLine($"stopped at step {r.Steps}; checkpoint in {r.CheckpointDirectory}. Continue with the same command and --resume.");
        if (!json)
        {
            if (!r.Cancelled) Console.WriteLine($"sft: {r.Steps} steps on {r.Sequences} sequences, last loss {loss.ToString("0.0000", CultureInfo.InvariantCulture)}; policy in {r.PolicyDirectory}");
            return;
        }
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["steps"] = r.Steps, ["examples"] = r.Examples, ["sequences"] = r.Sequences, ["eos_targets"] = r.EndOfTextTargets,
            ["loss"] = double.IsFinite(loss) ? Math.Round(loss, 5) : null, ["cancelled"] = r.Cancelled, ["policy"] = r.PolicyDirectory,
        }));
    }

    /// <summary>Start-up lines as they come; one live progress line on stderr for the steps.</summary>
    sealed class ProgressLine : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Stage == TrainingStage.Training)
                Console.Error.Write($"\rsft step {p.Step}/{p.TotalSteps} loss {p.Loss:0.0000} lr {p.LearningRate:G3}   ");
            else if (p.Message is not null && p.Stage != TrainingStage.Saving) Console.Error.WriteLine(p.Message);
            else if (p.Message is not null && p.Message.StartsWith("policy saved", StringComparison.Ordinal)) Console.Error.WriteLine($"\n{p.Message}");
        }
    }
}
