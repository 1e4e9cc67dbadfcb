using System.CommandLine;
using RewardKit.Data;
using RewardKit.Evaluation;
using RewardKit.Inference;
using Spectre.Console;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit eval --model DIR --data F [--data G ...] --out DIR</c>: score preference files and write report.json, report.md and report.html.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "The model folder (made by `rewardkit train`).", Required = true };
        var data = new Option<FileInfo[]>("--data") { Description = "Preference files to evaluate; the first is in-distribution, the rest give the robustness gap.", Required = true, AllowMultipleArgumentsPerToken = true };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for report.json, report.md and report.html.", Required = true };
        var bins = new Option<int>("--bins") { Description = "Calibration bins (equal-mass). Default 10.", DefaultValueFactory = _ => 10 };
        var probes = new Option<int>("--probe-pairs") { Description = "Pairs of the first file used by the adversarial and invariance probes (0 = none). Default 200.", DefaultValueFactory = _ => 200 };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Skip invalid records (counted and listed) instead of stopping at the first." };
        var baselineTrain = new Option<FileInfo?>("--baseline-train") { Description = "Training pairs to fit the response-only baseline (bag of words on the response, no prompt) on; its accuracy on the first --data file is reported beside the length-only one." };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var command = new Command("eval", "Evaluate a reward model: accuracy with CIs, calibration (ECE), length bias, probes; writes report.json, report.md, report.html.")
        {
            model, data, outDir, bins, probes, skipInvalid, baselineTrain, skipVersion,
        };
        command.SetAction(parse =>
        {
            var files = parse.GetValue(data)!;
            foreach (var f in files)
                if (!f.Exists) throw new FileNotFoundException($"{f.FullName}: --data file not found.", f.FullName);
            var baselineFile = parse.GetValue(baselineTrain);
            if (baselineFile is { Exists: false }) throw new FileNotFoundException($"{baselineFile.FullName}: --baseline-train file not found.", baselineFile.FullName);
            var modelDir = parse.GetValue(model)!.FullName;
            using var loaded = ScoringCli.Load(modelDir, parse.GetValue(skipVersion));
            var scorer = new RewardScorer(loaded, new RewardScorerOptions { BatchSize = 32 });
            var result = ModelEvaluation.Run(scorer, files.Select(f => f.FullName).ToList(), new ModelEvaluationOptions
            {
                Metrics = new EvaluationOptions { Bins = parse.GetValue(bins) },
                ProbePairs = parse.GetValue(probes),
                SkipInvalid = parse.GetValue(skipInvalid),
            }, new Progress<string>(m => Console.Error.WriteLine(m)));
            if (baselineFile is not null)
            {
                var readerOptions = new ReaderOptions { SkipInvalid = parse.GetValue(skipInvalid) };
                var (trainPairs, _) = PreferenceReader.ReadAllPairs(baselineFile.FullName, readerOptions);
                var (evalPairs, _) = PreferenceReader.ReadAllPairs(files[0].FullName, readerOptions);
                var baseline = ResponseOnlyBaseline.Fit(trainPairs.Select(p => (p.Chosen, p.Rejected)).ToList());
                result.Report.ResponseOnlyBaselineAccuracy = baseline.Accuracy(evalPairs.Select(p => (p.Chosen, p.Rejected)).ToList());
            }
            var readOptions = new ReaderOptions { SkipInvalid = parse.GetValue(skipInvalid) };
            var objectives = ObjectiveEvaluation.Evaluate(loaded, PreferenceReader.ReadAllPairs(files[0].FullName, readOptions).Pairs, cancellationToken: default);
            if (objectives.Count > 0) result.Report.ObjectiveAccuracy = objectives;
            var written = ModelEvaluation.WriteReports(result, ModelEvaluation.FindMetricsLog(modelDir), parse.GetValue(outDir)!.FullName);
            PrintSummary(result);
            foreach (var path in written) Console.WriteLine($"wrote {path}");
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>The terminal summary table of an evaluation.</summary>
    public static void PrintSummary(ModelEvaluationResult result)
    {
        var r = result.Report;
        var table = new Table().AddColumns("metric", "value");
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("pairs", r.Pairs.ToString());
        Row("accuracy (95% CI)", $"{r.Accuracy.Value:F4} [{r.Accuracy.Lower:F4}, {r.Accuracy.Upper:F4}]");
        Row("ECE (served)", $"{r.Ece:F4}  (noise floor {r.EceNoiseFloor.Mean:F4}, p95 {r.EceNoiseFloor.Percentile95:F4})");
        Row("ECE (uncalibrated)", $"{r.EceUncalibrated:F4}");
        Row("temperature", r.Temperature is { } t ? $"{t:F4}" : "none");
        Row("log loss / Brier", $"{r.LogLoss:F4} / {r.Brier:F4}");
        Row("length-only baseline", $"{r.LengthBias.LengthBaselineAccuracy:F4}");
        if (r.ResponseOnlyBaselineAccuracy is { } ro) Row(r.Datasets.Count > 1 ? "response-only baseline (first --data file)" : "response-only baseline", $"{ro:F4}");
        if (r.PTrueError is { } pe) Row("error vs p_true (MAE)", $"{pe.MeanAbsoluteError:F4}");
        foreach (var (name, est) in r.Datasets) Row($"accuracy on {name}", $"{est.Value:F4}");
        AnsiConsole.Write(table);
    }
}
