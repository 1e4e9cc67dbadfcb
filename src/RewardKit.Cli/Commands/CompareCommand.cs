using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit compare</c>: Compare two responses: the calibrated probability that a is preferred to b.</summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var command = new Command("compare", "Compare two responses: the calibrated probability that a is preferred to b.");
        command.SetAction(_ => NotBuilt.Report("compare"));
        return command;
    }
}
