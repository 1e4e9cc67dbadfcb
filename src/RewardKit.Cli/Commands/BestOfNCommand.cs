using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit best-of-n</c>: Pick the best of n responses to a prompt.</summary>
public static class BestOfNCommand
{
    public static Command Create()
    {
        var command = new Command("best-of-n", "Pick the best of n responses to a prompt.");
        command.SetAction(_ => NotBuilt.Report("best-of-n"));
        return command;
    }
}
