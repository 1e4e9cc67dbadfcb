using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit bench ...</c>: benchmarks that print JSON to compare with the PyTorch reference.</summary>
public static class BenchCommand
{
    /// <summary>Builds the <c>bench</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks that print JSON, to run beside the PyTorch reference in ../shared/bench.");
        command.Subcommands.Add(BenchGemmCommand.Create());
        command.Subcommands.Add(BenchTokenizerCommand.Create());
        command.Subcommands.Add(BenchTrainCommand.Create());
        command.Subcommands.Add(BenchInferCommand.Create());
        command.Subcommands.Add(BenchInferOnnxCommand.Create());
        command.Subcommands.Add(BenchServeCommand.Create());
        command.Subcommands.Add(BenchJudgeCommand.Create());
        command.Subcommands.Add(BenchGenerateCommand.Create());
        return command;
    }
}
