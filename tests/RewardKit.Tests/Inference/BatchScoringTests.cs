using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;

namespace RewardKit.Tests.Inference;

public class BatchScoringTests
{
    static RewardScorer Scorer(FakeRewardModel model) => new(model, new RewardScorerOptions { CacheEntries = 0 });
    static FakeRewardModel Model() => new(new RewardModelMetadata { Name = "fake", Version = "v", MaxLength = 64 });

    static string WriteInput(TempDirectory temp, int rows)
    {
        var path = temp["in.jsonl"];
        File.WriteAllLines(path, Enumerable.Range(0, rows).Select(i => i % 3 == 2
            ? JsonSerializer.Serialize(new { id = i, prompt = $"p{i}", chosen = $"helpful {i}", rejected = $"harmful {i}" })
            : JsonSerializer.Serialize(new { id = i, prompt = $"p{i}", response = $"answer {i}" })));
        return path;
    }

    [Fact]
    public async Task Every_row_is_scored_once_and_other_fields_are_kept()
    {
        using var temp = new TempDirectory();
        using var model = Model();
        var input = WriteInput(temp, 50);
        var result = await BatchScoring.RunAsync(Scorer(model), input, temp["out.jsonl"], chunkRows: 8);
        Assert.Equal(50, result.ScoredRows);
        var lines = File.ReadAllLines(temp["out.jsonl"]);
        Assert.Equal(50, lines.Length);
        var single = JsonDocument.Parse(lines[4]).RootElement;
        Assert.Equal(4, single.GetProperty("id").GetInt32());
        Assert.Equal(Scorer(model).Score("p4", "answer 4").Raw, single.GetProperty("reward").GetDouble(), 5);
        var pair = JsonDocument.Parse(lines[5]).RootElement;
        Assert.True(pair.GetProperty("reward_chosen").GetDouble() > pair.GetProperty("reward_rejected").GetDouble());
        Assert.InRange(pair.GetProperty("p_chosen_preferred").GetDouble(), 0.5, 1);
    }

    [Fact]
    public async Task A_killed_run_resumes_without_rescoring_written_rows_and_drops_a_partial_line()
    {
        using var temp = new TempDirectory();
        using var model = Model();
        var input = WriteInput(temp, 40);
        var output = temp["out.jsonl"];
        await BatchScoring.RunAsync(Scorer(model), input, temp["full.jsonl"], chunkRows: 7);
        var full = File.ReadAllLines(temp["full.jsonl"]);

        // A killed run: 13 complete lines and half of the 14th.
        File.WriteAllText(output, string.Join("\n", full.Take(13)) + "\n" + full[13][..(full[13].Length / 2)]);
        using var resumedModel = Model();
        var result = await BatchScoring.RunAsync(Scorer(resumedModel), input, output, chunkRows: 7);

        Assert.Equal(13, result.ResumedRows);
        Assert.Equal(27, result.ScoredRows);
        Assert.True(result.TruncatedBytes > 0);
        Assert.Equal(27 + 27 / 3, resumedModel.SequencesScored); // rows 13..39; pair rows score two responses
        Assert.Equal(full, File.ReadAllLines(output));
    }

    [Fact]
    public async Task A_finished_output_is_left_alone()
    {
        using var temp = new TempDirectory();
        using var model = Model();
        var input = WriteInput(temp, 10);
        await BatchScoring.RunAsync(Scorer(model), input, temp["out.jsonl"]);
        var before = File.ReadAllText(temp["out.jsonl"]);
        var again = await BatchScoring.RunAsync(Scorer(model), input, temp["out.jsonl"]);
        Assert.Equal(0, again.ScoredRows);
        Assert.Equal(10, again.ResumedRows);
        Assert.Equal(before, File.ReadAllText(temp["out.jsonl"]));
    }

    [Theory]
    [InlineData("{\"prompt\": \"p\", \"response\": 3}", "field \"response\" must be a string")]
    [InlineData("{\"prompt\": \"p\"", "invalid JSON")]
    [InlineData("[1, 2]", "expected a JSON object")]
    [InlineData("{\"prompt\": \"p\", \"answer\": \"x\"}", "no \"response\" field")]
    [InlineData("{\"response\": \"x\"}", "field \"prompt\" must be a string")]
    [InlineData("{\"prompt\": \"p\\ud800\", \"response\": \"x\"}", "lone surrogate escape \\ud800")]
    [InlineData("{\"prompt\": \"p\", \"response\": \"x\", \"meta\": {\"k\": \"\\udc00\"}}", "lone surrogate")]
    [InlineData("{\"prompt\": \"p\", \"prompt\": \"q\", \"response\": \"x\"}", "each key once")]
    public async Task A_bad_line_is_reported_with_file_line_and_field(string badLine, string expected)
    {
        using var temp = new TempDirectory();
        using var model = Model();
        File.WriteAllLines(temp["in.jsonl"], ["{\"prompt\": \"p\", \"response\": \"ok\"}", "", badLine]);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => BatchScoring.RunAsync(Scorer(model), temp["in.jsonl"], temp["out.jsonl"]));
        Assert.Contains("in.jsonl:3:", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task An_output_longer_than_the_input_is_refused()
    {
        using var temp = new TempDirectory();
        using var model = Model();
        var input = WriteInput(temp, 3);
        File.WriteAllText(temp["out.jsonl"], "{}\n{}\n{}\n{}\n{}\n");
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => BatchScoring.RunAsync(Scorer(model), input, temp["out.jsonl"]));
        Assert.Contains("belongs to another input", e.Message);
    }
}
