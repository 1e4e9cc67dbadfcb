using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary>`rewardkit tokenizer`: its happy path and a bad input (exit 1 with a message saying what to fix).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class TokenizerCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-tokenizer-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Tokenizer_train_writes_a_tokenizer_of_the_asked_size()
    {
        var (data, _) = TinyModelFolders.PairsAndTokenizer(_dir, 24, i => "No.");
        var output = Path.Combine(_dir, "tok");
        var run = ConsoleCapture.Run("tokenizer", "train", "--data", data, "--field", "prompt", "--field", "chosen", "--vocab-size", "300", "--out", output);
        Assert.True(run.Code == 0, run.Err);
        Assert.True(Directory.EnumerateFiles(output).Any(), "the tokenizer files are written");
    }

    [Fact]
    public void Tokenizer_train_with_a_vocabulary_below_the_byte_alphabet_is_refused()
    {
        var (data, _) = TinyModelFolders.PairsAndTokenizer(_dir, 4, i => "No.");
        CliAssert.UserError(ConsoleCapture.Run("tokenizer", "train", "--data", data, "--vocab-size", "10", "--out", Path.Combine(_dir, "tok")), "VocabSize");
    }
}
