using System.Text.Json;
using RewardKit.IO;
using RewardKit.Models;

namespace RewardKit.Cli.Tests;

/// <summary><c>train --architecture separate</c>, then score with and without the prompt cache.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class SeparateArchitectureCommandTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-separate-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void Train_separate_writes_a_separate_folder_that_scores_the_same_with_and_without_the_prompt_cache()
    {
        var (data, tokenizer) = TinyModelFolders.PairsAndTokenizer(_dir, 24, i => i % 2 == 0 ? "No." : "Go away.");
        var tokenizerDir = Path.Combine(_dir, "tokenizer");
        Directory.CreateDirectory(tokenizerDir);
        tokenizer.Save(tokenizerDir);
        var outDir = Path.Combine(_dir, "run");

        var (code, _, err) = ConsoleCapture.Run(["train", "--data", data, "--out", outDir, "--architecture", "separate", "--tokenizer", tokenizerDir,
            "--max-steps", "3", "--sft-steps", "2", "--batch-size", "4", "--threads", "1", "--max-length", "64"]);

        Assert.True(code == CliApp.Success, err);
        var model = Path.Combine(outDir, "model");
        Assert.Equal(ModelArchitecture.Separate, ModelArchitecture.Of(RewardModelMetadata.Load(model)));
        var scored = new[] { Path.Combine(_dir, "cached.jsonl"), Path.Combine(_dir, "uncached.jsonl") };
        Assert.Equal(CliApp.Success, ConsoleCapture.Run(["score", "--model", model, "--data", data, "--out", scored[0]]).Code);
        Assert.Equal(CliApp.Success, ConsoleCapture.Run(["score", "--model", model, "--data", data, "--out", scored[1], "--no-prompt-cache"]).Code);
        var a = File.ReadLines(scored[0]).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("reward_chosen").GetDouble()).ToArray();
        var b = File.ReadLines(scored[1]).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("reward_chosen").GetDouble()).ToArray();
        Assert.Equal(24, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 5);
    }

    [Fact]
    public void Separate_with_objectives_is_refused_naming_the_option_and_the_fix()
    {
        var (data, _) = TinyModelFolders.PairsAndTokenizer(_dir, 4, _ => "No.");

        var (code, _, err) = ConsoleCapture.Run(["train", "--data", data, "--out", Path.Combine(_dir, "x"), "--architecture", "separate", "--objectives", "helpfulness,honesty"]);

        Assert.Equal(1, code);
        Assert.Contains("architecture", err);
        Assert.Contains("objectives", err);
    }

    [Fact]
    public void No_prompt_cache_on_a_concat_model_is_a_user_error()
    {
        var (model, data) = TinyModelFolders.RewardModel(_dir);

        var (code, _, err) = ConsoleCapture.Run(["score", "--model", model, "--data", data, "--out", Path.Combine(_dir, "o.jsonl"), "--no-prompt-cache"]);

        Assert.Equal(1, code);
        Assert.Contains("not a separate-encoder model", err);
    }
}
