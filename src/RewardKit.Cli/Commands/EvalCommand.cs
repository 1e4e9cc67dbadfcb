using System.CommandLine;
using RewardKit.Data;
using RewardKit.Evaluation;
using RewardKit.Inference;
using Spectre.Console;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit eval --model DIR --data F [--data G ...] --out DIR</c>: score preference files and write report.json, report.md and report.html.</summary>
public static class EvalCommand
{
    /// <summary>Builds the <c>eval</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var model = ScoringCli.ModelOption();
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
            var modelDir = ScoringCli.ResolveModel(parse.GetValue(model)!);
            using var loaded = ScoringCli.Load(modelDir, parse.GetValue(skipVersion));
            var scorer = new RewardScorer(loaded, new RewardScorerOptions { BatchSize = 32 });
            var result = ModelEvaluation.Run(scorer, files.Select(f => f.FullName).ToList(), new ModelEvaluationOptions
            {
                Metrics = new EvaluationOptions { Bins = parse.GetValue(bins) },
                ProbePairs = parse.GetValue(probes),
                SkipInvalid = parse.GetValue(skipInvalid),
                ResponseOnlyBaselineTrainingData = baselineFile is null ? [] : [baselineFile.FullName],
            }, new Progress<string>(m => Console.Error.WriteLine(m)));
            var readOptions = new ReaderOptions { SkipInvalid = parse.GetValue(skipInvalid) };
            var firstPairs = PreferenceReader.ReadAllPairs(files[0].FullName, readOptions).Pairs;
            var objectives = ObjectiveEvaluation.Evaluate(loaded, firstPairs, cancellationToken: default);
            if (objectives.Count > 0) result.Report.ObjectiveAccuracy = objectives;
            if (loaded is IUncertainRewardModel ensemble)
            {
                var uncertainty = UncertaintyEvaluation.Evaluate(ensemble, firstPairs, scorer.Temperature);
                (result.Report.UncertaintyAuroc, result.Report.UncertaintyAurocBernoulli) = (Finite(uncertainty.Auroc), Finite(uncertainty.BernoulliAuroc));
                Console.Error.WriteLine($"uncertainty: the members' disagreement predicts the {uncertainty.Errors} errors among {uncertainty.Pairs} pairs with AUROC {uncertainty.Auroc:F3} (p(1 − p): {uncertainty.BernoulliAuroc:F3})");
            }
            var written = ModelEvaluation.WriteReports(result, ModelEvaluation.FindMetricsLog(modelDir), parse.GetValue(outDir)!.FullName);
            EvaluationSummary.Print(result);
            foreach (var path in written) Console.WriteLine($"wrote {path}");
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>The value, or null for NaN (an AUROC with no errors or no correct pairs; JSON has no NaN).</summary>
    static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
