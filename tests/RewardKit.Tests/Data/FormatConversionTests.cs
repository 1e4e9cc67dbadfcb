using RewardKit.Data;

namespace RewardKit.Tests.DataFormats;

public sealed class FormatConversionTests : IDisposable
{
    readonly DataFiles _files = new();
    public void Dispose() => _files.Dispose();

    // Awkward content on purpose: commas, quotes, newlines, CR, unicode, leading spaces, extras, messages, labels, numbers.
    public static TheoryData<string, string> EveryFormat => new()
    {
        { "pairs", string.Join("\n",
            """{"id": "a1", "source": "s", "category": "c,1", "prompt": "Say \"hi\",\nplease", "chosen": " Hi, \"you\"\r\n", "rejected": "  no  ", "margin": 0.5, "weight": 2, "annotator": "ann", "gold_reward_chosen": 1.25, "gold_reward_rejected": -0.1, "p_true": 0.7, "helpfulness": 1, "agreement": 0.667, "nested": {"k": [1, 2]}}""",
            """{"prompt": [{"role": "system", "content": "be kind"}, {"role": "user", "content": "héllo 👋"}], "chosen": [{"role": "assistant", "content": "hi"}], "rejected": [{"role": "assistant", "content": "go away"}], "labels": {"harmlessness": -1}}""",
            """{"prompt": "p", "chosen": "", "rejected": "b"}""") },
        { "rankings", string.Join("\n",
            """{"id": "r1", "prompt": "Rank, these", "responses": ["a\nb", "\"c\"", "d"], "ranks": [1, 0, 1], "gold_rewards": [0.1, 0.9, 0.1], "extra_field": true}""",
            """{"prompt": "q", "responses": ["x", "y"], "ranks": [0, 1]}""") },
        { "ratings", string.Join("\n",
            """{"id": "t1", "prompt": "Rate", "response": "fine, \"ok\"", "rating": 4.5, "gold_reward": 0.3, "annotator": "z", "category": "chat"}""",
            """{"prompt": "Rate", "response": "bad", "rating": 1, "note": null}""") },
    };

    string Jsonl(string path) => File.ReadAllText(path);

    [Theory]
    [MemberData(nameof(EveryFormat))]
    public void JSONL_to_CSV_and_back_is_lossless(string format, string text)
    {
        var source = _files.Write(text + "\n");
        var canonical = _files.PathFor(format + ".canonical.jsonl");
        var csv = _files.PathFor(format + ".csv");
        var back = _files.PathFor(format + ".back.jsonl");
        FormatConversion.Convert(source, canonical);
        var (written, from, to, _) = FormatConversion.Convert(canonical, csv);
        Assert.Equal(from, to);
        Assert.Equal(text.Split('\n').Length, written);
        FormatConversion.Convert(csv, back);
        Assert.Equal(Jsonl(canonical), Jsonl(back));

        // and CSV -> CSV is byte-identical too
        var csv2 = _files.PathFor(format + ".2.csv");
        FormatConversion.Convert(back, csv2);
        Assert.Equal(File.ReadAllBytes(csv), File.ReadAllBytes(csv2));
    }

    [Fact]
    public void Empty_optional_texts_survive_a_CSV_round_trip_as_empty_not_absent()
    {
        // An empty CSV cell means "absent", so "" travels in the extra column (found by the record fuzz test).
        var source = _files.Write("{\"id\": \"\", \"category\": \"\", \"prompt\": \"\", \"chosen\": \"a\", \"rejected\": \"b\", \"annotator\": \"\"}\n");
        var canonical = _files.PathFor("empty.canonical.jsonl");
        var csv = _files.PathFor("empty.csv");
        var back = _files.PathFor("empty.back.jsonl");
        FormatConversion.Convert(source, canonical);
        FormatConversion.Convert(canonical, csv);
        FormatConversion.Convert(csv, back);
        Assert.Equal(Jsonl(canonical), Jsonl(back));
        var pair = (PreferencePair)DataFiles.ReadAll(back).Single();
        Assert.Equal(("", "", "", ""), (pair.Id, pair.Category, pair.Prompt, pair.Annotator));
    }

    [Fact]
    public void Canonical_JSONL_keeps_every_field_value()
    {
        var source = _files.Write(EveryFormat.First()[1] + "\n");
        var out1 = _files.PathFor("o.jsonl");
        FormatConversion.Convert(source, out1);
        var first = (PreferencePair)DataFiles.ReadAll(out1)[0];
        Assert.Equal(("a1", "s", "c,1"), (first.Id, first.Source, first.Category));
        Assert.Equal(" Hi, \"you\"\r\n", first.Chosen);
        Assert.Equal((0.5, 2.0, "ann", 0.7), (first.Margin!.Value, first.Weight!.Value, first.Annotator, first.PTrue!.Value));
        Assert.Equal(1.0, first.Labels["helpfulness"]);
        Assert.Equal(0.667, first.Extra["agreement"].GetDouble());
        Assert.Equal(2, first.Extra["nested"].GetProperty("k")[1].GetInt32());
    }

    [Fact]
    public void Rankings_become_every_pair_with_different_ranks_and_ties_make_none()
    {
        var source = _files.Write("""{"prompt": "p", "responses": ["a", "b", "c"], "ranks": [1, 0, 1]}""" + "\n");
        var output = _files.PathFor("pairs.jsonl");
        var (written, _, to, report) = FormatConversion.Convert(source, output, RecordFormat.Pairs);
        Assert.Equal(RecordFormat.Pairs, to);
        Assert.Equal(2, written);
        Assert.Equal(1, report.TiesSkipped);
        var pairs = DataFiles.ReadAll(output).Cast<PreferencePair>().ToList();
        Assert.All(pairs, p => Assert.Equal("b", p.Chosen));
        Assert.Equal(["a", "c"], pairs.Select(p => p.Rejected));
    }

    [Fact]
    public void Ratings_become_one_ranking_per_prompt_and_rankings_become_ratings_best_highest()
    {
        var source = _files.Write(string.Join("\n",
            """{"prompt": "p", "response": "a", "rating": 2}""",
            """{"prompt": "q", "response": "x", "rating": 5}""",
            """{"prompt": "p", "response": "b", "rating": 5}""",
            """{"prompt": "q", "response": "y", "rating": 5}""") + "\n");
        var rankings = _files.PathFor("rankings.csv");
        FormatConversion.Convert(source, rankings, RecordFormat.Rankings);
        var groups = DataFiles.ReadAll(rankings).Cast<RankedGroup>().ToList();
        Assert.Equal(["p", "q"], groups.Select(g => g.Prompt));
        Assert.Equal([1, 0], groups[0].Ranks);
        Assert.Equal([0, 0], groups[1].Ranks);

        var ratings = _files.PathFor("ratings.jsonl");
        FormatConversion.Convert(rankings, ratings, RecordFormat.Ratings);
        var rated = DataFiles.ReadAll(ratings).Cast<RatedResponse>().ToList();
        Assert.Equal([1.0, 2.0, 1.0, 1.0], rated.Select(r => r.Rating));
    }

    [Fact]
    public void Pairs_to_ratings_is_refused_with_the_alternative()
    {
        var source = _files.Write("""{"prompt": "p", "chosen": "a", "rejected": "b"}""" + "\n");
        var e = Assert.Throws<ArgumentException>(() => FormatConversion.Convert(source, _files.PathFor("x.jsonl"), RecordFormat.Ratings));
        Assert.Contains("--to rankings", e.Message);
        Assert.Contains($"{source}:1:", e.Message);
    }

    [Fact]
    public void Converting_a_file_onto_itself_is_refused()
    {
        var source = _files.Write("""{"prompt": "p", "chosen": "a", "rejected": "b"}""" + "\n");
        Assert.Throws<ArgumentException>(() => FormatConversion.Convert(source, source));
        Assert.Single(DataFiles.ReadAll(source));
    }

    [SharedDataTheory]
    [InlineData("data/hh-rlhf-harmless-test.jsonl")]
    [InlineData("data/oasst-en100-ranked.jsonl")]
    [InlineData("data/pandalm-test.jsonl")]
    public void Shared_files_round_trip_through_CSV(string file)
    {
        var options = new ReaderOptions { SkipInvalid = true };
        var direct = _files.PathFor("direct.jsonl");
        var csv = _files.PathFor("via.csv");
        var back = _files.PathFor("back.jsonl");
        var (written, _, _, report) = FormatConversion.Convert(SharedData.PathOf(file), direct, options: options);
        Assert.Equal(report.RecordsRead, written);
        FormatConversion.Convert(direct, csv);
        FormatConversion.Convert(csv, back);
        Assert.Equal(File.ReadAllBytes(direct), File.ReadAllBytes(back));
    }
}
