using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit eval</c>: Evaluate a reward model and write report.json, report.md and report.html.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval", "Evaluate a reward model and write report.json, report.md and report.html.");
        command.SetAction(_ => NotBuilt.Report("eval"));
        return command;
    }
}
