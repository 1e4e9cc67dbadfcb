using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit registry</c>: Model registry: push, list, promote and rollback model versions.</summary>
public static class RegistryCommand
{
    public static Command Create()
    {
        var command = new Command("registry", "Model registry: push, list, promote and rollback model versions.");
        command.SetAction(_ => NotBuilt.Report("registry"));
        return command;
    }
}
