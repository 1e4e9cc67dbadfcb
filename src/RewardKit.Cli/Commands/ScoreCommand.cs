using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit score</c>: Score (prompt, response) pairs with a reward model.</summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var command = new Command("score", "Score (prompt, response) pairs with a reward model.");
        command.SetAction(_ => NotBuilt.Report("score"));
        return command;
    }
}
