using System.CommandLine;
using System.Text.Json;
using RewardKit.Inference.Quantization;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit quantize --model DIR --out DIR [--data PAIRS]</c>: int8 weights per output channel for inference, written as a
/// model folder the normal loader opens, with the measured cost (preference agreement, reward deltas, speed-up) printed,
/// written to OUT/quantization.json and stored in OUT/rewardkit.json.
/// </summary>
public static class QuantizeCommand
{
    /// <summary>The report file written beside the model files.</summary>
    public const string ReportFileName = "quantization.json";

    /// <summary>Builds the <c>quantize</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var model = ScoringCli.ModelOption();
        var output = new Option<string>("--out") { Description = "The quantised model folder to write (replaced atomically if it exists).", Required = true };
        var data = new Option<FileInfo?>("--data")
        {
            Description = "Preference pairs to measure the cost on (default: the validation.jsonl of the run's data folder, RUN/../data/validation.jsonl, when it exists).",
        };
        var maxPairs = new Option<int>("--max-pairs") { Description = "Pairs read from --data (0 = all). Default 2000.", DefaultValueFactory = _ => 2000 };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per forward pass when timing. Default 32.", DefaultValueFactory = _ => 32 };
        var repeats = new Option<int>("--repeats") { Description = "Timed passes per model, interleaved; the median is reported. Default 3.", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { Description = "Worker threads of both models (0 = all cores). Default 1.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var command = new Command("quantize", "Quantise a reward model's weights to int8 for inference and measure what it costs.")
            { model, output, data, maxPairs, batch, repeats, threads, json, skipVersion };
        command.SetAction((parse, ct) =>
        {
            var modelDir = ScoringCli.ResolveModel(parse.GetValue(model)!, ct);
            var dataFile = parse.GetValue(data)?.FullName ?? DefaultData(modelDir)
                ?? throw new UserErrorException($"--data: no preference pairs given and none found at {Path.Combine(modelDir, "..", "..", "data", "validation.jsonl")}; pass --data validation.jsonl.");
            var progress = parse.GetValue(json) ? null : new Progress<string>(m => Console.Error.WriteLine(m));
            var report = ModelQuantizer.Quantize(modelDir, parse.GetValue(output)!, new ModelQuantizerOptions
            {
                DataFile = dataFile, MaxPairs = parse.GetValue(maxPairs), BatchSize = parse.GetValue(batch),
                Repeats = parse.GetValue(repeats), Threads = parse.GetValue(threads), VerifyVersion = !parse.GetValue(skipVersion),
            }, progress, ct);
            var document = report.ToJson();
            document["model"] = report.OutputDirectory;
            document["version"] = report.Version;
            document["source_version"] = report.SourceVersion;
            document["data"] = dataFile;
            var text = document.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            var path = Path.Combine(report.OutputDirectory, ReportFileName);
            File.WriteAllText(path + ".tmp", text);
            File.Move(path + ".tmp", path, overwrite: true);
            if (parse.GetValue(json)) Console.WriteLine(text);
            else
            {
                var c = report.Cost;
                Console.WriteLine($"wrote {report.OutputDirectory} ({report.Layers} int8 layers, {report.FloatWeightBytes / 1e6:0.0} MB float -> {report.Int8WeightBytes / 1e6:0.0} MB int8, kernel {report.Isa})");
                Console.WriteLine($"on {c.Pairs} pairs of {dataFile}: preferred response unchanged {c.PreferenceAgreement:P2} (target >= 99%), max |delta reward| {c.MaxAbsRewardDelta:0.0000}, mean |delta| {c.MeanAbsRewardDelta:0.00000}");
                Console.WriteLine($"scoring {report.Sequences} sequences: float {report.FloatSeconds:0.000} s, int8 {report.Int8Seconds:0.000} s (medians of {report.FloatRuns.Length}; float runs {string.Join(", ", report.FloatRuns.Select(r => r.ToString("0.000")))}; int8 runs {string.Join(", ", report.Int8Runs.Select(r => r.ToString("0.000")))}) -> speed-up {report.SpeedUp:0.00}x");
                Console.WriteLine($"report in {path}");
            }
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }


    /// <summary>RUN/model → RUN/../data/validation.jsonl (the quickstart layout), when it exists.</summary>
    static string? DefaultData(string modelDirectory)
    {
        var candidate = Path.GetFullPath(Path.Combine(modelDirectory, "..", "..", "data", "validation.jsonl"));
        return File.Exists(candidate) ? candidate : null;
    }
}
