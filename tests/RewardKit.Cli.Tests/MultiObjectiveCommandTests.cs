using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.MultiObjective;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Cli.Tests;

/// <summary><c>score --json</c> and <c>eval</c> on a multi-objective model folder.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class MultiObjectiveCommandTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-multi-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    (string Model, string Data) MakeModelAndData()
    {
        var (data, tokenizer) = TinyModelFolders.PairsAndTokenizer(_dir, 12, _ => "No.",
            i => new Dictionary<string, double> { ["helpfulness"] = 1, ["honesty"] = i % 2 == 0 ? 1 : 0 });
        var config = new GptConfig { Layers = 1, EmbeddingSize = 16, Heads = 2, Positions = 64, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var model = new GptRewardModel(config, outputs: 3);
        model.Initialize(new Rng(9));
        var folder = Path.Combine(_dir, "model");
        MultiObjectiveFolder.Save(model, RewardObjectives.Parse("helpfulness,harmlessness,honesty", "1,2,3"), folder,
            new RewardModelMetadata { Template = "plain", MaxLength = 64 }, writeExtra: tokenizer.Save);
        return (folder, data);
    }

    static JsonElement Score(params string[] extra)
    {
        var (code, output, err) = ConsoleCapture.Run(["score", .. extra, "--prompt", "Tell me about topic 3.", "--response", "Sure, an answer.", "--json"]);
        Assert.True(code == CliApp.Success, err);
        return JsonDocument.Parse(output).RootElement;
    }

    [Fact]
    public void Score_json_adds_each_objective_and_objective_weights_override_the_combination_for_the_call()
    {
        var (model, _) = MakeModelAndData();

        var json = Score("--model", model);
        var objectives = json.GetProperty("objectives");
        double h = objectives.GetProperty("helpfulness").GetDouble(), a = objectives.GetProperty("harmlessness").GetDouble(), o = objectives.GetProperty("honesty").GetDouble();
        Assert.Equal(h + 2 * a + 3 * o, json.GetProperty("reward").GetDouble(), 4);

        var overridden = Score("--model", model, "--objective-weights", "0,1,0");
        Assert.Equal(a, overridden.GetProperty("reward").GetDouble(), 5);
    }

    [Fact]
    public void Objective_weights_for_a_single_head_model_or_of_the_wrong_count_are_user_errors_naming_the_flag()
    {
        var (model, _) = MakeModelAndData();
        var (code, _, err) = ConsoleCapture.Run("score", "--model", model, "--prompt", "p", "--response", "r", "--objective-weights", "1,1");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--objective-weights", err);
    }

    [Fact]
    public void Eval_report_json_has_the_accuracy_of_each_objective_on_its_labels()
    {
        var (model, data) = MakeModelAndData();
        Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings());

        Assert.Equal(CliApp.Success, CliApp.Run(["eval", "--model", model, "--data", data, "--out", Path.Combine(_dir, "eval"), "--probe-pairs", "0"]));

        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "eval", "report.json"))).RootElement.GetProperty("objective_accuracy");
        Assert.Equal(12, report.GetProperty("helpfulness").GetProperty("pairs").GetInt32());
        Assert.Equal(6, report.GetProperty("honesty").GetProperty("pairs").GetInt32());   // ties (0) carry no preference
        Assert.False(report.TryGetProperty("harmlessness", out _));                     // no record is labelled for it
        Assert.InRange(report.GetProperty("helpfulness").GetProperty("accuracy").GetDouble(), 0, 1);
    }
}
