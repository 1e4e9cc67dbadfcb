using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary><c>train --ensemble</c>, then <c>score</c>, <c>eval</c> and <c>select</c> on the ensemble folder it writes.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class EnsembleCommandTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-ensemble-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    static JsonElement ScoreJson(params string[] args)
    {
        var (code, output, err) = ConsoleCapture.Run(["score", .. args, "--prompt", "Tell me about topic 3.", "--response", "Sure, an answer.", "--json"]);
        Assert.True(code == CliApp.Success, err);
        return JsonDocument.Parse(output).RootElement;
    }

    [Fact]
    public void Train_with_ensemble_then_score_eval_and_select_report_the_spread_of_the_members()
    {
        var (data, _) = TinyModelFolders.PairsAndTokenizer(_dir, 24, i => i % 2 == 0 ? "No." : "Go away.");
        var (trained, _, trainErr) = ConsoleCapture.Run("train", "--data", data, "--out", Path.Combine(_dir, "out"), "--ensemble", "2", "--max-steps", "2",
            "--sft-steps", "0", "--vocab-size", "300", "--max-length", "48", "--batch-size", "8", "--threads", "1");
        Assert.True(trained == CliApp.Success, trainErr);
        var model = Path.Combine(_dir, "out", "model");

        var plain = ScoreJson("--model", model);
        var std = plain.GetProperty("std").GetDouble();
        Assert.True(std > 0, $"std {std}: two members with other seeds and resamples disagree");
        var conservative = ScoreJson("--model", model, "--conservative", "2");
        Assert.Equal(plain.GetProperty("reward").GetDouble() - 2 * std, conservative.GetProperty("reward").GetDouble(), 4);
        Assert.False(ScoreJson("--model", Path.Combine(model, "member-0")).TryGetProperty("std", out _));   // one member is one model

        var mixed = Path.Combine(_dir, "mixed.jsonl");   // every third pair reversed, so the ensemble gets some wrong and the AUROC is defined
        File.WriteAllLines(mixed, File.ReadAllLines(data).Select((line, i) =>
        {
            var o = System.Text.Json.Nodes.JsonNode.Parse(line)!.AsObject();
            if (i % 3 == 0) (o["chosen"], o["rejected"]) = (o["rejected"]!.GetValue<string>(), o["chosen"]!.GetValue<string>());
            return o.ToJsonString();
        }));
        Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings());
        Assert.Equal(CliApp.Success, CliApp.Run(["eval", "--model", model, "--data", mixed, "--out", Path.Combine(_dir, "eval"), "--probe-pairs", "0"]));
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "eval", "report.json"))).RootElement;
        Assert.InRange(report.GetProperty("uncertainty_auroc").GetDouble(), 0, 1);

        var selected = Path.Combine(_dir, "selected.jsonl");
        var (code, output, err) = ConsoleCapture.Run("select", "--model", model, "--data", data, "--budget", "5", "--out", selected);
        Assert.True(code == CliApp.Success, err);
        Assert.Contains("by disagreement", output);
        var rows = File.ReadAllLines(selected).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(5, rows.Length);
        var uncertainties = rows.Select(r => r.GetProperty("uncertainty").GetDouble()).ToArray();
        Assert.Equal(uncertainties.OrderDescending(), uncertainties);
    }

    [Fact]
    public void Select_reports_a_bad_record_with_file_and_line_and_conservative_needs_an_ensemble()
    {
        var (model, data) = TinyModelFolders.RewardModel(_dir);
        var bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"prompt\": \"p\", \"response_a\": \"a\", \"response_b\": \"b\"}\n{\"prompt\": \"p\"}\n");

        var (code, _, err) = ConsoleCapture.Run("select", "--model", model, "--data", bad, "--budget", "1", "--out", Path.Combine(_dir, "s.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{bad}:2:", err);
        Assert.False(File.Exists(Path.Combine(_dir, "s.jsonl")));

        (code, _, err) = ConsoleCapture.Run("select", "--model", model, "--data", data, "--budget", "1", "--out", Path.Combine(_dir, "s.jsonl"), "--by", "disagreement");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("not an ensemble", err);

        (code, _, err) = ConsoleCapture.Run("score", "--model", model, "--prompt", "p", "--response", "r", "--conservative", "1");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--conservative", err);
    }
}
