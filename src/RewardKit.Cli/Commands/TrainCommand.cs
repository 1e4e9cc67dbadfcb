using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit train</c>: Train a reward model on preference data.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Train a reward model on preference data.");
        command.SetAction(_ => NotBuilt.Report("train"));
        return command;
    }
}
