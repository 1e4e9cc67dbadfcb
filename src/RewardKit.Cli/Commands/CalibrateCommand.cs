using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit calibrate</c>: Fit temperature scaling on a validation set and store it in the model.</summary>
public static class CalibrateCommand
{
    public static Command Create()
    {
        var command = new Command("calibrate", "Fit temperature scaling on a validation set and store it in the model.");
        command.SetAction(_ => NotBuilt.Report("calibrate"));
        return command;
    }
}
