using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;

namespace RewardKit.Cli.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class ExportCommandTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-export-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public ExportCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    string MakeModel()
    {
        var config = new GptConfig { Layers = 1, EmbeddingSize = 16, Heads = 2, Positions = 32, VocabSize = 50, EosTokenId = 49 }.WithoutDropout();
        var folder = Path.Combine(_dir, "model");
        RewardModelFolder.Save(GptRewardModel.Create(config, seed: 3), folder, new RewardModelMetadata { Name = "cli-rm" });
        return folder;
    }

    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (savedOut, savedErr) = (Console.Out, Console.Error);
        var (output, error) = (new StringWriter(), new StringWriter());
        Console.SetOut(output);
        Console.SetError(error);
        try { return (CliApp.Run(args), output.ToString(), error.ToString()); }
        finally { Console.SetOut(savedOut); Console.SetError(savedErr); }
    }

    [Fact]
    public void Export_onnx_writes_a_graph_onnx_runtime_opens_with_a_dynamic_batch()
    {
        var path = Path.Combine(_dir, "model.onnx");
        var (code, output, error) = Run("export", "onnx", "--model", MakeModel(), "--out", path, "--opset", "17", "--dynamic-batch", "--json");

        Assert.True(code == CliApp.Success, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(path, json.RootElement.GetProperty("path").GetString());
        Assert.Equal(17, json.RootElement.GetProperty("opset").GetInt32());
        Assert.Equal("last_token", json.RootElement.GetProperty("pooling").GetString());
        using var session = new InferenceSession(path);
        Assert.Equal(["input_ids", "attention_mask"], session.InputNames);
        Assert.Equal(["rewards"], session.OutputNames);
        Assert.Equal([-1, -1], session.InputMetadata["input_ids"].Dimensions);
        Assert.Equal("cli-rm", session.ModelMetadata.CustomMetadataMap["rewardkit.name"]);
    }

    [Fact]
    public void Export_onnx_of_a_missing_folder_or_with_a_bad_opset_is_a_user_error_naming_it()
    {
        var path = Path.Combine(_dir, "x.onnx");
        var missing = Path.Combine(_dir, "no-model");
        var (code, _, error) = Run("export", "onnx", "--model", missing, "--out", path);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains(missing, error);

        (code, _, error) = Run("export", "onnx", "--model", MakeModel(), "--out", path, "--opset", "13");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--opset 13", error);
        Assert.False(File.Exists(path));
    }
}
