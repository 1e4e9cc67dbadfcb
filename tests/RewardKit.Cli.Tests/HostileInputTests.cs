using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Cli.Tests;

/// <summary>
/// Hostile files through the CLI: each gets exit code 1 and a message naming the file (and line, field or tensor), never
/// exit 2 or a stack trace. One class, so its console captures do not interleave.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class HostileInputTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-hostile-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    string P(string name) => Path.Combine(_dir, name);

    static (int Code, string Out, string Err) Run(params string[] args) => ConsoleCapture.Run(args);

    // ---- data -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("empty.jsonl", "")]
    [InlineData("blank.jsonl", "  \n\t\n\r\n")]
    [InlineData("header.csv", "prompt,chosen,rejected\n")]
    public void Validate_refuses_a_file_without_records_as_train_does(string name, string text)
    {
        File.WriteAllText(P(name), text);
        CliAssert.UserError(Run("data", "validate", P(name)), $"{P(name)}: no records");
        CliAssert.UserError(Run("train", "--data", P(name), "--out", P("run-" + name), "--max-steps", "1"), P(name), "no usable pairs");
    }

    [Fact]
    public void Validate_refuses_dev_null()
    {
        if (!File.Exists("/dev/null")) return;
        CliAssert.UserError(Run("data", "validate", "/dev/null"), "/dev/null: no records");
    }

    [Fact]
    public void A_lone_surrogate_is_an_error_naming_file_line_and_field_in_validate_and_train_and_a_counted_skip()
    {
        var path = P("surrogate.jsonl");
        File.WriteAllText(path, "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}\n{\"prompt\": \"p\", \"chosen\": \"a\\ud800\", \"rejected\": \"b\"}\n");
        CliAssert.UserError(Run("data", "validate", path), $"{path}:2:", "'chosen'", "lone surrogate");
        var skipped = Run("data", "validate", path, "--skip-invalid");
        CliAssert.UserError(skipped, $"invalid: {path}:2:", "1 invalid skipped");
        CliAssert.UserError(Run("train", "--data", path, "--out", P("run-surrogate"), "--max-steps", "1"), $"{path}:2:", "lone surrogate");
        CliAssert.UserError(Run("data", "stats", path), "1 invalid record");
    }

    [Fact]
    public void Train_reads_a_FIFO_once_and_finishes()
    {
        if (OperatingSystem.IsWindows()) return;
        var fifo = P("pairs.fifo");
        Fifo.Make(fifo);
        var text = string.Join("\n", Enumerable.Range(0, 24).Select(i =>
            JsonSerializer.Serialize(new { prompt = $"question {i}", chosen = $"a helpful answer {i}", rejected = "no" }))) + "\n";
        var writer = Fifo.WriteAsync(fifo, Encoding.UTF8.GetBytes(text));
        var run = Run("train", "--data", fifo, "--out", P("run-fifo"), "--max-steps", "1", "--sft-steps", "0", "--batch-size", "4", "--max-length", "32");
        Assert.True(run.Code == CliApp.Success, run.Out + run.Err);
        Assert.True(writer.IsCompletedSuccessfully);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        Assert.Contains(sha, File.ReadAllText(Path.Combine(P("run-fifo"), "model", RewardModelMetadata.FileName)));
    }

    [Fact]
    public void A_thousand_mutated_records_through_validate_stats_and_convert_never_exit_2()
    {
        var fuzz = new HostileJson(7);
        foreach (var format in HostileJson.Formats)
        {
            var valid = Enumerable.Range(0, 50).Select(_ => fuzz.ValidRecord(format)).ToList();
            var path = P($"fuzz-{format}.jsonl");
            File.WriteAllBytes(path, [.. Enumerable.Range(0, 350).SelectMany(i => fuzz.Mutate(valid[i % valid.Count]).Append((byte)'\n'))]);
            foreach (var args in new[]
            {
                new[] { "data", "validate", path }, ["data", "validate", path, "--skip-invalid"], ["data", "stats", path, "--json"],
                ["data", "convert", "--in", path, "--out", P($"fuzz-{format}.csv"), "--skip-invalid"],
                ["data", "split", path, "--out", P($"fuzz-{format}-split"), "--skip-invalid"],
            })
            {
                var run = Run(args);
                Assert.True(run.Code is CliApp.Success or CliApp.UserError, $"{string.Join(' ', args)}: exit {run.Code}\n{run.Err}");
                Assert.DoesNotContain("   at ", run.Err);
            }
        }
    }

    // ---- model folders ----------------------------------------------------------------------------------

    /// <summary>A small untrained model folder with its own tokenizer; <paramref name="edit"/> may change the weights before saving.</summary>
    string ModelFolder(string name, Action<GptRewardModel>? edit = null)
    {
        var texts = Enumerable.Range(0, 20).Select(i => $"a prompt {i} and a helpful answer {i}").ToList();
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = 300, MinFrequency = 1 });
        var config = new GptConfig { Layers = 1, EmbeddingSize = 32, Heads = 2, Positions = 64, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var model = GptRewardModel.Create(config, seed: 5);
        edit?.Invoke(model);
        var folder = P(name);
        RewardModelFolder.Save(model, folder, new RewardModelMetadata { Template = "plain", MaxLength = 64 }, writeExtra: tokenizer.Save);
        return folder;
    }

    static string[] Score(string folder, params string[] more) => ["score", "--model", folder, "--prompt", "p", "--response", "a helpful answer", .. more];

    [Fact]
    public void NaN_weights_are_refused_on_load_naming_the_tensor_even_with_the_version_check_skipped()
    {
        var folder = ModelFolder("nan", m => m.ScoreWeight.Data[3] = float.NaN);
        CliAssert.UserError(Run(Score(folder)), "'score.weight'", "at index 3");
        CliAssert.UserError(Run(Score(folder, "--json", "--skip-version-check")), "'score.weight'");
    }

    [Fact]
    public void A_reward_that_overflows_is_an_error_for_score_and_score_json_not_a_JSON_writer_failure()
    {
        var folder = ModelFolder("huge", m => m.ScoreWeight.Data.Fill(3e38f));   // finite weights, infinite reward
        CliAssert.UserError(Run(Score(folder)), "non-finite reward");
        CliAssert.UserError(Run(Score(folder, "--json")), "non-finite reward");
    }

    [Fact]
    public void Weights_edited_after_saving_are_refused_naming_both_hashes_unless_skip_version_check_is_given()
    {
        var folder = ModelFolder("edited");
        var recorded = RewardModelMetadata.Load(folder).Version;
        var weights = Path.Combine(folder, RewardModelFolder.WeightsFileName);
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0x01;   // the last float of the last tensor: still finite
        File.WriteAllBytes(weights, bytes);
        var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        foreach (var verb in new[] { Score(folder), ["rank", "--model", folder, "--prompt", "p", "--response", "a", "--response", "b"],
                     ["compare", "--model", folder, "--prompt", "p", "--a", "x", "--b", "y"], ["best-of-n", "--model", folder, "--prompt", "p", "--response", "a"] })
            CliAssert.UserError(Run(verb), recorded, actual, "--skip-version-check");
        var run = Run(Score(folder, "--json", "--skip-version-check"));
        Assert.True(run.Code == CliApp.Success, run.Err);
        Assert.True(double.IsFinite(JsonDocument.Parse(run.Out).RootElement.GetProperty("reward").GetDouble()));
    }

    [Fact]
    public void A_weights_symlink_loop_and_a_huge_vocab_size_are_user_errors_naming_the_file()
    {
        if (OperatingSystem.IsWindows()) return;
        var loop = ModelFolder("loop");
        var weights = Path.Combine(loop, RewardModelFolder.WeightsFileName);
        File.Delete(weights);
        File.CreateSymbolicLink(weights, RewardModelFolder.WeightsFileName);
        CliAssert.UserError(Run(Score(loop)), weights, "cannot be read");

        var vocab = ModelFolder("vocab");
        var configPath = Path.Combine(vocab, GptConfig.FileName);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["vocab_size"] = int.MaxValue;
        File.WriteAllText(configPath, config.ToJsonString());
        CliAssert.UserError(Run(Score(vocab)), configPath, "vocab_size");
    }
}
