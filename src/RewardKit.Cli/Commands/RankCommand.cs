using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit rank</c>: Rank the responses to a prompt.</summary>
public static class RankCommand
{
    public static Command Create()
    {
        var command = new Command("rank", "Rank the responses to a prompt.");
        command.SetAction(_ => NotBuilt.Report("rank"));
        return command;
    }
}
