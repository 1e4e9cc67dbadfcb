using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary>`rewardkit compare`: its happy path and a bad input (exit 1 with a message saying what to fix).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CompareCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-compare-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Compare_gives_the_probability_that_a_is_preferred()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        var run = ConsoleCapture.Run("compare", "--model", model, "--prompt", "p", "--a", "Sure, here it is.", "--b", "No.", "--json");
        Assert.True(run.Code == 0, run.Err);
        var json = JsonDocument.Parse(run.Out).RootElement;
        double a = json.GetProperty("reward_a").GetDouble(), b = json.GetProperty("reward_b").GetDouble();
        Assert.Equal(1 / (1 + Math.Exp(-(a - b) / json.GetProperty("temperature").GetDouble())), json.GetProperty("p_a_preferred").GetDouble(), 1e-5);
    }

    [Fact]
    public void Compare_without_b_says_what_to_pass()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        CliAssert.UserError(ConsoleCapture.Run("compare", "--model", model, "--prompt", "p", "--a", "x"), "--b");
    }
}
