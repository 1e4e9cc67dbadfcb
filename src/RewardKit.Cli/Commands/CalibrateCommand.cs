using System.CommandLine;
using RewardKit.Data;
using RewardKit.Evaluation;
using RewardKit.IO;
using RewardKit.Inference;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit calibrate --model DIR --data VAL</c>: fit temperature scaling on validation pairs and store T in rewardkit.json.</summary>
public static class CalibrateCommand
{
    /// <summary>Builds the <c>calibrate</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "The model folder; its rewardkit.json receives the temperature.", Required = true };
        var data = new Option<FileInfo>("--data") { Description = "Validation pairs (never the split you report).", Required = true };
        var bins = new Option<int>("--bins") { Description = "Calibration bins (equal-mass) for the ECE printed before and after. Default 10.", DefaultValueFactory = _ => 10 };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var command = new Command("calibrate", "Fit temperature scaling on a validation set (exact 1-D log-loss minimum) and store it in the model.") { model, data, bins, skipVersion };
        command.SetAction(parse =>
        {
            var modelDir = parse.GetValue(model)!.FullName;
            var file = parse.GetValue(data)!;
            if (!file.Exists) throw new FileNotFoundException($"{file.FullName}: --data file not found.", file.FullName);
            var fit = Calibrator.Calibrate(modelDir, file.FullName, parse.GetValue(bins), verifyVersion: !parse.GetValue(skipVersion));
            Console.WriteLine($"temperature {fit.Fit.Temperature:F4}  log loss {fit.Fit.LogLossBefore:F4} -> {fit.Fit.LogLossAfter:F4}  ECE {fit.EceBefore:F4} -> {fit.EceAfter:F4} on {fit.Pairs} validation pairs");
            Console.WriteLine($"stored in {Path.Combine(modelDir, RewardModelMetadata.FileName)}");
            return CliApp.Success;
        });
        return command;
    }
}
