using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit quantize</c>: Quantise a reward model's weights to int8 for inference.</summary>
public static class QuantizeCommand
{
    public static Command Create()
    {
        var command = new Command("quantize", "Quantise a reward model's weights to int8 for inference.");
        command.SetAction(_ => NotBuilt.Report("quantize"));
        return command;
    }
}
