using System.Text.Json;
using RewardKit.Data;
using RewardKit.Data.World;

namespace RewardKit.Tests.DataFormats.World;

public sealed class GoldJudgeFileTests : IDisposable
{
    readonly DataFiles _files = new();
    public void Dispose() => _files.Dispose();

    static List<JsonElement> Lines(string path) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    static List<string> Names(JsonElement e) => e.EnumerateObject().Select(p => p.Name).ToList();

    [Fact]
    public void Generations_keep_every_field_in_order_and_get_gold_reward_and_kind_with_null_for_prompts_the_world_does_not_write()
    {
        var input = _files.Write(string.Join('\n',
            """{"id": "a", "prompt": "What is 3 + 4?", "response": "3 + 4 = 7.", "tokens": 5, "logprobs": [-0.1, -0.25]}""",
            """{"prompt": [{"role": "user", "content": "What is 3 + 4?"}], "response": " Sure! 3 + 4 = 7."}""",
            """{"prompt": "Write a poem.", "response": "Roses are red."}""",
            """{"prompt": "What is 3 + 4?", "response": "", "gold_reward": 99, "note": "kept"}"""));
        var output = _files.PathFor("judged.jsonl");
        var result = GoldJudgeFile.Judge(input, output);

        var lines = Lines(output);
        Assert.Equal(4, lines.Count);
        Assert.Equal(["id", "prompt", "response", "tokens", "logprobs", "gold_reward", "gold_kind"], Names(lines[0]));
        Assert.Equal("[-0.1,-0.25]", lines[0].GetProperty("logprobs").GetRawText());
        Assert.Equal((2.0, "correct"), (lines[0].GetProperty("gold_reward").GetDouble(), lines[0].GetProperty("gold_kind").GetString()));
        Assert.Equal("polite", lines[1].GetProperty("gold_kind").GetString());
        Assert.Equal(JsonValueKind.Array, lines[1].GetProperty("prompt").ValueKind);
        Assert.Equal(JsonValueKind.Null, lines[2].GetProperty("gold_reward").ValueKind);
        Assert.Equal(GoldJudge.UnknownPromptKind, lines[2].GetProperty("gold_kind").GetString());
        // an existing gold_reward is replaced where it stands
        Assert.Equal(["prompt", "response", "gold_reward", "note", "gold_kind"], Names(lines[3]));
        Assert.Equal(GoldJudge.IncoherentReward, lines[3].GetProperty("gold_reward").GetDouble());

        Assert.Equal((4L, "generations", 3L, 1L, 1L, 1L), (result.Records, result.RecordKind, result.Responses, result.UnknownPrompts, result.InputGold, result.InputGoldDiffers));
        Assert.Equal((2.0 + 2.2 - 2.5) / 3, result.MeanReward, 9);
        Assert.Equal(4, result.Report.RecordsRead);
    }

    [Fact]
    public void A_world_file_is_judged_as_generated_pairs_get_chosen_and_rejected_fields_and_rankings_arrays()
    {
        var dir = _files.PathFor("world");
        PreferenceWorld.Generate(dir, new WorldOptions { TrainPairs = 300, ValidationPairs = 30, TestPairs = 30 });
        var pairs = GoldJudgeFile.Judge(Path.Combine(dir, "train.jsonl"), _files.PathFor("train.jsonl"));
        Assert.Equal((600L, 600L, 0L), (pairs.Responses, pairs.InputGold, pairs.InputGoldDiffers));
        var original = Lines(Path.Combine(dir, "train.jsonl"));
        var judged = Lines(_files.PathFor("train.jsonl"));
        Assert.Equal(original.Count, judged.Count);
        for (var i = 0; i < judged.Count; i++)
        {
            Assert.Equal([.. Names(original[i]), "gold_kind_chosen", "gold_kind_rejected"], Names(judged[i]));
            Assert.Equal(original[i].GetProperty("id").GetString(), judged[i].GetProperty("id").GetString());
            Assert.Equal(original[i].GetProperty("kind_chosen").GetString(), judged[i].GetProperty("gold_kind_chosen").GetString());
            Assert.Equal(original[i].GetProperty("kind_rejected").GetString(), judged[i].GetProperty("gold_kind_rejected").GetString());
        }

        var rankings = GoldJudgeFile.Judge(Path.Combine(dir, "rankings-train.jsonl"), _files.PathFor("rankings.jsonl"));
        Assert.Equal(0, rankings.InputGoldDiffers);
        var group = Lines(_files.PathFor("rankings.jsonl"))[0];
        Assert.Equal(group.GetProperty("responses").GetArrayLength(), group.GetProperty("gold_kinds").GetArrayLength());
        var ratings = GoldJudgeFile.Judge(Path.Combine(dir, "ratings-test.jsonl"), _files.PathFor("ratings.jsonl"));
        Assert.Equal((ratings.Records, 0L), (ratings.Responses, ratings.InputGoldDiffers));
    }

    [Fact]
    public void A_bad_line_stops_the_run_with_FILE_LINE_and_skip_invalid_skips_and_counts_it()
    {
        var input = _files.Write(string.Join('\n',
            """{"prompt": "What is 3 + 4?", "response": "3 + 4 = 7."}""",
            """{"prompt": "What is 3 + 4?", "response": 7}""",
            "{\"prompt\": \"What is 3 + 4?\", \"response\": \"3 + 4 = 7.\"", // truncated
            """{"prompt": "What is 3 + 4?", "response": "3 + 4 = 8."}"""));
        var output = _files.PathFor("out.jsonl");
        var e = Assert.Throws<InvalidDataException>(() => GoldJudgeFile.Judge(input, output));
        Assert.Contains($"{input}:2:", e.Message);
        Assert.Contains("'response'", e.Message);
        Assert.False(File.Exists(output));

        var result = GoldJudgeFile.Judge(input, output, new ReaderOptions { SkipInvalid = true });
        Assert.Equal(2, result.Report.SkippedCount);
        Assert.Equal([2L, 3L], result.Report.Skipped.Select(s => s.Line));
        Assert.Equal(["correct", "wrong_answer"], Lines(output).Select(l => l.GetProperty("gold_kind").GetString()));
    }

    [Fact]
    public void A_record_of_another_kind_than_the_first_and_a_record_without_responses_are_errors_naming_the_line()
    {
        var mixed = _files.Write(string.Join('\n',
            """{"prompt": "What is 3 + 4?", "response": "3 + 4 = 7."}""",
            """{"prompt": "What is 3 + 4?", "chosen": "3 + 4 = 7.", "rejected": "3 + 4 = 8."}"""));
        Assert.Contains(":2: record holds a pair", Assert.Throws<InvalidDataException>(() => GoldJudgeFile.Judge(mixed, _files.PathFor("o.jsonl"))).Message);
        var promptOnly = _files.Write("""{"prompt": "What is 3 + 4?"}""");
        Assert.Contains(":1: record has no 'response'", Assert.Throws<InvalidDataException>(() => GoldJudgeFile.Judge(promptOnly, _files.PathFor("o.jsonl"))).Message);
    }

    [Fact]
    public void A_file_without_any_world_prompt_is_an_error_and_leaves_the_previous_output_untouched()
    {
        var input = _files.Write("""{"prompt": "Write a poem.", "response": "Roses are red."}""");
        var output = _files.PathFor("out.jsonl");
        File.WriteAllText(output, "previous\n");
        var e = Assert.Throws<InvalidDataException>(() => GoldJudgeFile.Judge(input, output));
        Assert.Contains("none of its prompts is a prompt of the built-in world (line 1", e.Message);
        Assert.Equal("previous\n", File.ReadAllText(output));
        Assert.Single(Directory.GetFiles(_files.Dir, "out.jsonl*"));
    }

    [Fact]
    public void CSV_files_and_writing_over_the_input_are_refused_with_the_fix()
    {
        var input = _files.Write("""{"prompt": "What is 3 + 4?", "response": "3 + 4 = 7."}""");
        Assert.Contains("convert a CSV first", Assert.Throws<ArgumentException>(() => GoldJudgeFile.Judge(input, _files.PathFor("o.csv"))).Message);
        Assert.Contains("is the input file", Assert.Throws<ArgumentException>(() => GoldJudgeFile.Judge(input, input)).Message);
        Assert.Throws<FileNotFoundException>(() => GoldJudgeFile.Judge(_files.PathFor("missing.jsonl"), _files.PathFor("o.jsonl")));
    }
}
