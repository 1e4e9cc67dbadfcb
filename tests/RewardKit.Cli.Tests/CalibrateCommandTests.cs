using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary>`rewardkit calibrate`: its happy path and a bad input (exit 1 with a message saying what to fix).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CalibrateCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-calibrate-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Calibrate_stores_a_temperature_in_the_model_metadata()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        // Validation pairs the untrained model gets right 3 times in 4 (calibration needs a positive mean margin).
        var data = Path.Combine(_dir, "validation.jsonl");
        var scorer = new RewardKit.Inference.RewardScorer(RewardKit.Inference.ModelLoading.Load(model));
        File.WriteAllLines(data, Enumerable.Range(0, 40).Select(i =>
            {
                string prompt = $"Tell me about topic {i}.", x = $"Answer {i}: here it is.", y = i % 2 == 0 ? "No." : "Go away.";
                bool xWins = scorer.Score(prompt, x).Raw > scorer.Score(prompt, y).Raw;
                bool right = i % 4 != 0;
                var (chosen, rejected) = xWins == right ? (x, y) : (y, x);
                return JsonSerializer.Serialize(new { prompt, chosen, rejected });
            }));
        var run = ConsoleCapture.Run("calibrate", "--model", model, "--data", data);
        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("temperature", run.Out);
        var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "rewardkit.json"))).RootElement;
        Assert.True(metadata.GetProperty("temperature").GetDouble() > 0);
    }

    [Fact]
    public void Calibrate_on_a_malformed_file_names_the_file_and_line()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        var bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(bad, "{not json\n");
        CliAssert.UserError(ConsoleCapture.Run("calibrate", "--model", model, "--data", bad), "bad.jsonl:1");
    }
}
