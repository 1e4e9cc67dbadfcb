using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit serve</c>: Serve a reward model over HTTP.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Serve a reward model over HTTP.");
        command.SetAction(_ => NotBuilt.Report("serve"));
        return command;
    }
}
