using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary>`rewardkit rank`: its happy path and a bad input (exit 1 with a message saying what to fix).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class RankCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-rank-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Rank_orders_every_response_and_their_best_probabilities_sum_to_one()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        var run = ConsoleCapture.Run("rank", "--model", model, "--prompt", "p", "--response", "a", "--response", "bb", "--response", "ccc", "--json");
        Assert.True(run.Code == 0, run.Err);
        var ranked = JsonDocument.Parse(run.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], ranked.Select(r => r.GetProperty("index").GetInt32()).Order());
        Assert.Equal(1, ranked.Sum(r => r.GetProperty("probability_best").GetDouble()), 1e-6);
        var rewards = ranked.Select(r => r.GetProperty("reward").GetDouble()).ToList();
        Assert.Equal(rewards.OrderDescending(), rewards);
    }

    [Fact]
    public void Rank_of_a_missing_model_folder_names_it()
    {
        var missing = Path.Combine(_dir, "no-model");
        CliAssert.UserError(ConsoleCapture.Run("rank", "--model", missing, "--prompt", "p", "--response", "a"), "no-model");
    }
}
