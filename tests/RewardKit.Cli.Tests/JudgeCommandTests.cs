using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary><c>rewardkit judge</c> through <see cref="CliApp.Run"/>, on temporary folders.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class JudgeCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-judge-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    string P(string name) => Path.Combine(_dir, name);

    static (int Code, string Out, string Err) Run(params string[] args) => ConsoleCapture.Run(args);

    [Fact]
    public void Judge_scores_a_world_file_keeps_every_record_and_prints_a_JSON_summary_last()
    {
        Assert.Equal(CliApp.Success, Run("data", "generate", "--out", P("world"), "--pairs", "200", "--seed", "4").Code);
        var (code, output, _) = Run("judge", "--data", P("world/test.jsonl"), "--out", P("judged.jsonl"), "--json");
        Assert.Equal(CliApp.Success, code);
        var summary = JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]).RootElement;
        Assert.Equal(20, summary.GetProperty("records").GetInt64());
        Assert.Equal(40, summary.GetProperty("responses").GetInt64());
        Assert.Equal(0, summary.GetProperty("input_gold_differs").GetInt64());
        Assert.Equal(40, summary.GetProperty("kinds").EnumerateObject().Sum(k => k.Value.GetInt64()));
        var judged = File.ReadAllLines(P("judged.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(File.ReadAllLines(P("world/test.jsonl")).Length, judged.Count);
        Assert.All(judged, j => Assert.Equal(j.GetProperty("kind_chosen").GetString(), j.GetProperty("gold_kind_chosen").GetString()));
    }

    [Fact]
    public void Judge_names_a_bad_line_as_FILE_LINE_exits_1_and_with_skip_invalid_counts_it()
    {
        var input = P("gen.jsonl");
        File.WriteAllLines(input, [
            """{"prompt": "What is 3 + 4?", "response": "3 + 4 = 7."}""",
            """{"prompt": "What is 3 + 4?", "response": null}""",
            """{"prompt": "Write a poem.", "response": "Roses are red."}"""]);
        var (code, _, err) = Run("judge", "--data", input, "--out", P("out.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{input}:2:", err);
        Assert.DoesNotContain("   at ", err);
        Assert.False(File.Exists(P("out.jsonl")));

        var (skipCode, output, _) = Run("judge", "--data", input, "--out", P("out.jsonl"), "--skip-invalid");
        Assert.Equal(CliApp.Success, skipCode);
        Assert.Contains($"invalid (skipped): {input}:2:", output);
        Assert.Contains("1 invalid skipped", output);
        Assert.Contains("read 2 generations, 1 invalid skipped; judged 1 responses", output);
        Assert.Contains("1 response(s) answer prompts the world does not write", output);
        Assert.Equal(2, File.ReadAllLines(P("out.jsonl")).Length);
    }

    [Fact]
    public void Judge_of_a_missing_file_or_a_file_without_world_prompts_exits_1_with_the_reason()
    {
        var (code, _, err) = Run("judge", "--data", P("missing.jsonl"), "--out", P("out.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("missing.jsonl", err);

        File.WriteAllText(P("poems.jsonl"), """{"prompt": "Write a poem.", "response": "Roses are red."}""" + "\n");
        (code, _, err) = Run("judge", "--data", P("poems.jsonl"), "--out", P("out.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("none of its prompts is a prompt of the built-in world", err);
    }
}
