using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Cli.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class EvalCommandTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-eval-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    string WritePairs(string name, int count, int offset)
    {
        var path = Path.Combine(_dir, name);
        using var w = new StreamWriter(path);
        for (int i = offset; i < offset + count; i++)
            w.WriteLine(JsonSerializer.Serialize(new
            {
                prompt = $"Tell me about topic {i}.",
                chosen = $"Sure, here is a helpful answer about topic {i}.",
                rejected = i % 2 == 0 ? "No." : "Go away, topic.",
            }));
        return path;
    }

    [Fact]
    public void Eval_with_baseline_train_reports_the_response_only_baseline_in_every_report()
    {
        Directory.CreateDirectory(_dir);
        var train = WritePairs("train.jsonl", 40, 0);
        var test = WritePairs("test.jsonl", 20, 100);
        var texts = File.ReadLines(train).SelectMany(l => JsonDocument.Parse(l).RootElement.EnumerateObject().Select(p => p.Value.GetString()!)).ToList();
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 300, MinFrequency = 1 });
        var config = new GptConfig { Layers = 1, EmbeddingSize = 32, Heads = 2, Positions = 64, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var model = Path.Combine(_dir, "model");
        RewardModelFolder.Save(GptRewardModel.Create(config, seed: 5), model, new RewardModelMetadata { Template = "plain", MaxLength = 64 }, writeExtra: tokenizer.Save);
        var report = Path.Combine(_dir, "report");

        Assert.Equal(CliApp.Success, CliApp.Run(["eval", "--model", model, "--data", test, "--out", report, "--probe-pairs", "0", "--baseline-train", train]));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "report.json")));
        // The chosen responses share words the rejected never use, so the bag-of-words baseline separates every pair.
        Assert.Equal(1.0, json.RootElement.GetProperty("response_only_baseline_accuracy").GetDouble());
        var baselines = json.RootElement.GetProperty("baselines");
        var responseOnly = baselines.GetProperty("response_only");
        Assert.Equal(1.0, responseOnly.GetProperty("value").GetDouble());
        Assert.Equal(1.0, responseOnly.GetProperty("lower").GetDouble());   // every resample separates every pair too
        var lengthOnly = baselines.GetProperty("length_only");
        Assert.Equal(json.RootElement.GetProperty("length_bias").GetProperty("length_baseline_accuracy").GetDouble(), lengthOnly.GetProperty("value").GetDouble(), 12);
        Assert.True(lengthOnly.GetProperty("lower").GetDouble() <= lengthOnly.GetProperty("value").GetDouble()
            && lengthOnly.GetProperty("value").GetDouble() <= lengthOnly.GetProperty("upper").GetDouble());
        Assert.Contains("response-only baseline", File.ReadAllText(Path.Combine(report, "report.md")));
        Assert.Contains("response-only baseline", File.ReadAllText(Path.Combine(report, "report.html")));
    }

    [Fact]
    public void A_missing_baseline_train_file_is_a_user_error_naming_the_option()
    {
        Directory.CreateDirectory(_dir);
        var test = WritePairs("test.jsonl", 4, 0);
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(CliApp.UserError, CliApp.Run(["eval", "--model", _dir, "--data", test, "--out", Path.Combine(_dir, "r"), "--baseline-train", Path.Combine(_dir, "nope.jsonl")]));
        }
        finally { Console.SetError(saved); }
        Assert.Contains("--baseline-train", error.ToString());
    }
}
