using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit tokenizer</c>: Byte-level BPE: encode, decode and train tokenizers.</summary>
public static class TokenizerCommand
{
    public static Command Create()
    {
        var command = new Command("tokenizer", "Byte-level BPE: encode, decode and train tokenizers.");
        command.SetAction(_ => NotBuilt.Report("tokenizer"));
        return command;
    }
}
