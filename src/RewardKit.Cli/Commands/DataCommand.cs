using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit data</c>: Preference data: generate the built-in world, validate, stats, split and convert.</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Preference data: generate the built-in world, validate, stats, split and convert.");
        command.SetAction(_ => NotBuilt.Report("data"));
        return command;
    }
}
