using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary>`rewardkit score`: its happy path and a bad input (exit 1 with a message saying what to fix).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ScoreCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-score-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Score_prints_the_reward_of_one_pair_as_json()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        var run = ConsoleCapture.Run("score", "--model", model, "--prompt", "Tell me about topic 1.", "--response", "Sure.", "--json");
        Assert.True(run.Code == 0, run.Err);
        using var json = JsonDocument.Parse(run.Out);
        Assert.True(double.IsFinite(json.RootElement.GetProperty("reward").GetDouble()));
        Assert.True(json.RootElement.GetProperty("ids").GetArrayLength() > 0);
    }

    [Fact]
    public void Score_without_a_response_says_what_to_pass()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        CliAssert.UserError(ConsoleCapture.Run("score", "--model", model, "--prompt", "p"), "--response");
    }
}
