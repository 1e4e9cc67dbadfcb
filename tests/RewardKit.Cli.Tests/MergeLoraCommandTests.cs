using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.Lora;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Cli.Tests;

/// <summary><c>train --lora-r ... --init BASE</c>, then score, eval and <c>merge-lora</c> on the adapter folder it writes.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class MergeLoraCommandTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-lora-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    (string Base, string Data) MakeBaseAndData() => TinyModelFolders.RewardModel(_dir, "base");

    static double Reward(string model) =>
        JsonDocument.Parse(ConsoleCapture.Run("score", "--model", model, "--prompt", "Tell me about topic 3.", "--response", "Sure, here is an answer.", "--json").Out)
            .RootElement.GetProperty("reward").GetDouble();

    [Fact]
    public void An_adapter_trained_by_the_cli_scores_evaluates_and_merges_into_a_model_with_the_same_rewards()
    {
        var (basePath, data) = MakeBaseAndData();
        var run = Path.Combine(_dir, "lora");
        var train = ConsoleCapture.Run("train", "--data", data, "--out", run, "--init", basePath, "--lora-r", "4", "--lora-alpha", "16",
            "--lora-targets", "c_attn,c_fc", "--max-steps", "4", "--batch-size", "8", "--max-length", "48", "--threads", "1");
        Assert.True(train.Code == CliApp.Success, train.Err);
        var adapter = Path.Combine(run, "model");
        Assert.True(LoraAdapterFolder.IsAdapter(adapter));
        Assert.Equal(16, JsonDocument.Parse(File.ReadAllText(Path.Combine(adapter, "adapter_config.json"))).RootElement.GetProperty("lora_alpha").GetDouble());

        double adapted = Reward(adapter);
        // eval prints its table through Spectre's console, bound to the real standard output (not a capture).
        Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings());
        Assert.Equal(CliApp.Success, CliApp.Run(["eval", "--model", adapter, "--data", data, "--out", Path.Combine(_dir, "eval"), "--probe-pairs", "0"]));
        Assert.True(File.Exists(Path.Combine(_dir, "eval", "report.json")));

        var merged = Path.Combine(_dir, "merged");
        var merge = ConsoleCapture.Run("merge-lora", "--adapter", adapter, "--out", merged);
        Assert.True(merge.Code == CliApp.Success, merge.Err);
        Assert.False(LoraAdapterFolder.IsAdapter(merged));
        Assert.Null(ModelArchitecture.AdapterOf(RewardModelMetadata.Load(merged)));
        Assert.InRange(Reward(merged) - adapted, -1e-5, 1e-5);
    }

    [Fact]
    public void Merging_a_folder_that_is_not_an_adapter_is_a_user_error_naming_the_flag()
    {
        var (basePath, _) = MakeBaseAndData();

        var (code, _, err) = ConsoleCapture.Run("merge-lora", "--adapter", basePath, "--out", Path.Combine(_dir, "m"));

        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--adapter", err);
        Assert.Contains("adapter_config.json", err);
    }

    [Fact]
    public void Lora_without_init_is_a_user_error_naming_init()
    {
        var (_, data) = MakeBaseAndData();

        var (code, _, err) = ConsoleCapture.Run("train", "--data", data, "--out", Path.Combine(_dir, "x"), "--lora-r", "8");

        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--init", err);
    }
}
