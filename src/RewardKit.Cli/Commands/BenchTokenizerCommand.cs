using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit tokenizer</c>: Tokenizer encoding MB/s, beside the npm gpt-tokenizer.</summary>
public static class BenchTokenizerCommand
{
    public static Command Create()
    {
        var command = new Command("tokenizer", "Tokenizer encoding MB/s, beside the npm gpt-tokenizer.");
        command.SetAction(_ => NotBuilt.Report("tokenizer"));
        return command;
    }
}
