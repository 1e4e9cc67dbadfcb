using System.Text.Json;
using RewardKit.Cli.Commands;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Cli.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class QuantizeCommandTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-quantize-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    (string Model, string Data) MakeModelAndData() => TinyModelFolders.RewardModel(_dir);

    [Fact]
    public void Quantize_writes_a_folder_the_normal_loader_opens_and_a_json_report_of_the_cost()
    {
        var (model, data) = MakeModelAndData();
        var output = Path.Combine(_dir, "model-int8");

        Assert.Equal(CliApp.Success, CliApp.Run(["quantize", "--model", model, "--out", output, "--data", data, "--repeats", "1", "--json"]));

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, QuantizeCommand.ReportFileName)));
        var root = report.RootElement;
        Assert.Equal(24, root.GetProperty("pairs").GetInt32());
        Assert.InRange(root.GetProperty("preference_agreement").GetDouble(), 0, 1);
        Assert.True(root.GetProperty("max_abs_reward_delta").GetDouble() >= root.GetProperty("mean_abs_reward_delta").GetDouble());
        Assert.True(root.GetProperty("speedup").GetDouble() > 0);
        Assert.Equal(4, root.GetProperty("layers").GetInt32());
        Assert.Equal(RewardModelMetadata.Load(model).Version, root.GetProperty("source_version").GetString());
        Assert.True(File.Exists(Path.Combine(output, QuantizedModelFolder.Int8WeightsFileName)));
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")) || File.Exists(Path.Combine(output, "vocab.json")));
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => d.Contains(".quantize-") || d.Contains(".tmp-"));

        using var loaded = ModelLoading.Load(output);
        var (gpt, _) = RewardModelFolder.Load(output);
        Assert.IsType<QuantizedConv1D>(gpt.Conv1DKernel);
        var scorer = new RewardScorer(loaded);
        Assert.True(double.IsFinite(scorer.Score("Tell me about topic 3.", "Sure.").Raw));
    }

    [Fact]
    public void Quantize_without_data_or_with_a_missing_file_is_a_user_error_naming_the_option()
    {
        var (model, _) = MakeModelAndData();
        var output = Path.Combine(_dir, "q");
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(CliApp.UserError, CliApp.Run(["quantize", "--model", model, "--out", output]));
            Assert.Equal(CliApp.UserError, CliApp.Run(["quantize", "--model", model, "--out", output, "--data", Path.Combine(_dir, "nope.jsonl")]));
        }
        finally { Console.SetError(saved); }
        Assert.Contains("--data", error.ToString());
        Assert.False(Directory.Exists(output));
    }
}
