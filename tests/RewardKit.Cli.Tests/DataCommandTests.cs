using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary>The <c>data</c> verbs through <see cref="CliApp.Run"/>, on temporary folders. One class, so its console captures do not interleave.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DataCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-data-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    string P(string name) => Path.Combine(_dir, name);

    static (int Code, string Out, string Err) Run(params string[] args) => ConsoleCapture.Run(args);

    static JsonElement JsonLine(string output) =>
        JsonDocument.Parse(output.Split('\n').First(l => l.StartsWith("{\"file\"", StringComparison.Ordinal))).RootElement;

    string Generated()
    {
        var world = P("world");
        if (!File.Exists(Path.Combine(world, "train.jsonl")))
            Assert.Equal(CliApp.Success, Run("data", "generate", "--out", world, "--pairs", "500", "--seed", "3").Code);
        return world;
    }

    [Fact]
    public void Stats_prints_tables_and_JSON_with_the_same_counts()
    {
        var train = Path.Combine(Generated(), "train.jsonl");
        var (code, table, _) = Run("data", "stats", train);
        Assert.Equal(CliApp.Success, code);
        Assert.Contains("longer response wins", table);
        Assert.Contains("p95", table);

        var (jsonCode, json, _) = Run("data", "stats", train, "--json");
        Assert.Equal(CliApp.Success, jsonCode);
        var s = JsonLine(json);
        Assert.Equal(500, s.GetProperty("records").GetInt64());
        Assert.Equal(500, s.GetProperty("pairs").GetInt64());
        Assert.Equal(0, s.GetProperty("invalid").GetInt64());
        Assert.InRange(s.GetProperty("longer_wins_share").GetDouble(), 0, 1);
        Assert.True(s.GetProperty("response_chars").GetProperty("p50").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, s.GetProperty("response_tokens").ValueKind);
    }

    [Fact]
    public void Stats_lists_invalid_records_prints_the_rest_and_exits_1_unless_they_are_skipped()
    {
        var path = P("bad.jsonl");
        File.WriteAllLines(path, [
            """{"prompt": "p", "chosen": "a", "rejected": "b"}""",
            """{"prompt": "p", "chosen": false, "rejected": "b"}""",
            """{"prompt": "q", "chosen": "a", "rejected": "bb"}"""]);
        var (code, output, _) = Run("data", "stats", path);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("1 invalid record", output);
        Assert.Contains("statistics are of the 2 valid records", output);
        Assert.Contains("chosen", output);

        var (skipCode, json, _) = Run("data", "stats", path, "--json", "--skip-invalid");
        Assert.Equal(CliApp.Success, skipCode);
        var s = JsonLine(json);
        Assert.Equal(2, s.GetProperty("records").GetInt64());
        var bad = Assert.Single(s.GetProperty("invalid_records").EnumerateArray());
        Assert.Equal(2, bad.GetProperty("line").GetInt64());
        Assert.Equal("chosen", bad.GetProperty("field").GetString());
    }

    [SharedDataFact]
    public void Stats_of_PandaLM_report_the_six_boolean_records_and_token_lengths()
    {
        var (code, json, _) = Run("data", "stats", SharedData.PathOf("data/pandalm-test.jsonl"), "--json", "--skip-invalid",
            "--tokenizer", SharedData.PathOf("tokenizers/gpt2"));
        Assert.Equal(CliApp.Success, code);
        var s = JsonLine(json);
        Assert.Equal(6, s.GetProperty("invalid").GetInt64());
        Assert.All(s.GetProperty("invalid_records").EnumerateArray(), r => Assert.Equal("chosen", r.GetProperty("field").GetString()));
        var tokens = s.GetProperty("response_tokens");
        Assert.True(tokens.GetProperty("p50").GetDouble() < s.GetProperty("response_chars").GetProperty("p50").GetDouble());
    }

    [Fact]
    public void Split_writes_three_files_without_shared_prompts_and_prints_the_counts()
    {
        var train = Path.Combine(Generated(), "train.jsonl");
        var (code, output, _) = Run("data", "split", train, "--by", "prompt", "--fractions", "0.8,0.1,0.1", "--out", P("split"), "--seed", "9");
        Assert.Equal(CliApp.Success, code);
        var prompts = new[] { "train", "validation", "test" }.Select(n =>
        {
            var lines = File.ReadAllLines(P($"split/{n}.jsonl"));
            Assert.Contains($"{n}", output);
            Assert.Contains($"records {lines.Length,7}", output);
            return lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("prompt").GetString()).ToHashSet();
        }).ToList();
        Assert.Empty(prompts[0].Intersect(prompts[1]));
        Assert.Empty(prompts[0].Intersect(prompts[2]));
        Assert.Empty(prompts[1].Intersect(prompts[2]));
    }

    [Theory]
    [InlineData("--by", "id", "--by prompt")]
    [InlineData("--fractions", "0.5,0.1", "sum to 1")]
    public void Split_refuses_bad_options_with_exit_code_1(string option, string value, string message)
    {
        var train = Path.Combine(Generated(), "train.jsonl");
        var (code, _, err) = Run("data", "split", train, "--out", P("s2"), option, value);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains(message, err);
    }

    [Theory]
    [InlineData("train.jsonl")]
    [InlineData("rankings-train.jsonl")]
    [InlineData("ratings-train.jsonl")]
    public void Convert_round_trips_every_format_through_CSV(string file)
    {
        var source = Path.Combine(Generated(), file);
        Assert.Equal(CliApp.Success, Run("data", "convert", "--in", source, "--out", P(file + ".csv")).Code);
        Assert.Equal(CliApp.Success, Run("data", "convert", "--in", P(file + ".csv"), "--out", P(file + ".txt"), "--format", "jsonl").Code);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(P(file + ".txt"))); // the generator writes canonical JSONL
    }

    [Fact]
    public void Convert_changes_the_format_and_refuses_an_unknown_one()
    {
        var source = Path.Combine(Generated(), "rankings-train.jsonl");
        var (code, output, _) = Run("data", "convert", "--in", source, "--out", P("r-pairs.jsonl"), "--to", "pairs");
        Assert.Equal(CliApp.Success, code);
        Assert.Contains("Pairs", output);
        Assert.Contains("\"chosen\"", File.ReadLines(P("r-pairs.jsonl")).First());

        var (bad, _, err) = Run("data", "convert", "--in", source, "--out", P("x.jsonl"), "--to", "triples");
        Assert.Equal(CliApp.UserError, bad);
        Assert.Contains("pairs, rankings or ratings", err);
    }

    [Fact]
    public void A_missing_file_is_a_user_error_naming_it()
    {
        var (code, _, err) = Run("data", "stats", P("nope.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("nope.jsonl", err);
    }
}
