using System.CommandLine;
using RewardKit.Data;
using RewardKit.Data.World;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit data</c>: Preference data: generate the built-in world, validate, stats, split and convert.</summary>
public static partial class DataCommand
{
    /// <summary>The <c>data</c> verb with its subcommands.</summary>
    public static Command Create()
    {
        var command = new Command("data", "Preference data: generate the built-in world, validate, stats, split and convert.");
        command.Subcommands.Add(Generate());
        command.Subcommands.Add(Validate());
        command.Subcommands.Add(Stats());
        command.Subcommands.Add(Split());
        command.Subcommands.Add(Convert());
        return command;
    }

    static Command Generate()
    {
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for train/validation/test, rankings, ratings and world.json.", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed; the same seed gives byte-identical files.", DefaultValueFactory = _ => 1 };
        var pairs = new Option<int>("--pairs") { Description = "Training pairs (validation and test get a tenth each).", DefaultValueFactory = _ => 20_000 };
        var command = new Command("generate", "Generate the built-in preference world with a known gold reward.") { outDir, seed, pairs };
        command.SetAction(parse =>
        {
            var n = parse.GetValue(pairs);
            var options = new WorldOptions { Seed = parse.GetValue(seed), TrainPairs = n, ValidationPairs = n / 10, TestPairs = n / 10 };
            var summary = PreferenceWorld.Generate(parse.GetValue(outDir)!.FullName, options);
            foreach (var s in summary.Splits)
                Console.WriteLine($"{s.Name,-10} pairs {s.Pairs,6}  prompts {s.Prompts,6}  rankings {s.RankedGroups,5}  ratings {s.Ratings,5}  Bayes-optimal accuracy {s.BayesOptimalAccuracy:F4}  longer-wins {s.LongerWinsShare:F4}");
            return CliApp.Success;
        });
        return command;
    }

    static Command Validate()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A JSONL or CSV preference file." };
        var skip = new Option<bool>("--skip-invalid") { Description = "List every invalid record instead of stopping at the first (the exit code is still 1 when any is invalid)." };
        var command = new Command("validate", "Check every record of a preference file. Exit code 0 when every record is valid and there is at least one; "
            + "1 when a record is invalid or the file holds no record at all (empty, blank lines only, a CSV with only its header, /dev/null): `train` refuses such a file too.") { file, skip };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!.FullName;
            var reader = new PreferenceReader(path, new ReaderOptions { SkipInvalid = parse.GetValue(skip) });
            foreach (var _ in reader.ReadRecords()) { }
            foreach (var issue in reader.Report.Skipped) Console.WriteLine($"invalid: {issue}");
            foreach (var issue in reader.Report.Warnings.Take(20)) Console.WriteLine($"warning: {issue}");
            Console.WriteLine(reader.Report.Summary());
            if (reader.Report.RecordsRead == 0 && reader.Report.SkippedCount == 0)
            {
                Console.Error.WriteLine($"error: {path}: no records (the file is empty, holds only blank lines, or is a CSV with only its header); `train` would refuse it. Add records, or check the path.");
                return CliApp.UserError;
            }
            return reader.Report.SkippedCount == 0 ? CliApp.Success : CliApp.UserError;
        });
        return command;
    }
}
