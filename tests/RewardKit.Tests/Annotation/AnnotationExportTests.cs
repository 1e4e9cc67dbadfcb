using System.Text.Json;
using Microsoft.Data.Sqlite;
using RewardKit.Annotation;
using RewardKit.Data;
using static RewardKit.Testing.AnnotationTestData;

namespace RewardKit.Tests.Annotation;

public sealed class AnnotationExportTests : IDisposable
{
    readonly string _out = TempFolder("export");
    readonly AnnotationStore _store;

    public AnnotationExportTests()
    {
        _store = Store([Pair("t0"), Pair("t1"), Pair("t2"), Ranking("r0", 3), Rating("s0", 2), Pair("g0", gold: PairChoice.A), Pair("t3")], k: 3, goldEvery: 6);
        // What each annotator answers, per task.
        var answers = new Dictionary<string, Dictionary<string, AnnotationAnswer>>
        {
            ["ann1"] = new() { ["t0"] = Choose(PairChoice.A), ["t1"] = Choose(PairChoice.A), ["t2"] = Choose(PairChoice.B, 3), ["r0"] = Ranks(1, 2, 3), ["s0"] = Ratings(5, 2), ["g0"] = Choose(PairChoice.A) },
            ["ann2"] = new() { ["t0"] = Choose(PairChoice.A), ["t1"] = Choose(PairChoice.B), ["t2"] = Choose(PairChoice.B, 1), ["r0"] = Ranks(2, 1, 3), ["s0"] = Ratings(4, 2) },
            ["ann3"] = new() { ["t0"] = Choose(PairChoice.A), ["t1"] = Choose(PairChoice.Tie), ["t2"] = Choose(PairChoice.A, 1) },
        };
        foreach (var (who, mine) in answers)
        {
            _store.Invite(who, AnnotatorRole.Annotator);
            while (_store.NextTask(who) is { } task && mine.TryGetValue(task.Id, out var answer))
                Assert.Equal(SubmitOutcome.Stored, _store.Submit(task.Id, who, answer, task.Id == "t2" ? $"<b>{who}</b> thinks so" : null));
        }
    }

    static AnnotationAnswer Ranks(params int[] r) => new() { Ranks = r };
    static AnnotationAnswer Ratings(params int[] r) => new() { Ratings = r };

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var dir in new[] { _out, Path.GetDirectoryName(_store.Path)! }) try { Directory.Delete(dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Pairs_carry_margin_and_weight_from_agreement_and_the_annotator_ids()
    {
        var summary = AnnotationExport.Write(_store, _out);
        Assert.Equal((2, 1, 1, 2), (summary.Pairs, summary.Ties, summary.Rankings, summary.Ratings));
        var (pairs, report) = PreferenceReader.ReadAllPairs(Path.Combine(_out, "pairs.jsonl"));
        Assert.Equal(0, report.SkippedCount);
        var t0 = pairs.Single(p => p.Id == "t0");
        Assert.Equal(("a helpful answer", "a harmful answer"), (t0.Chosen, t0.Rejected));
        Assert.Equal((1.0, Math.Round(6 / 9.0, 6), "ann1,ann2,ann3"), (t0.Weight!.Value, t0.Margin!.Value, t0.Annotator));
        Assert.Equal(AnnotationExport.Source, t0.Source);
        var t2 = pairs.Single(p => p.Id == "t2");
        Assert.Equal("a harmful answer", t2.Chosen); // B won 2:1
        Assert.Equal((Math.Round(2 / 3.0, 6), Math.Round((3 + 1 - 1) / 9.0, 6)), (t2.Weight!.Value, t2.Margin!.Value));
        var votes = t2.Extra["votes"].EnumerateArray().ToList();
        Assert.Equal(["chosen", "chosen", "rejected"], votes.Select(v => v.GetProperty("preferred").GetString()));
        Assert.Equal("<b>ann1</b> thinks so", votes[0].GetProperty("reason").GetString());
        Assert.Equal(2 / 3.0, t2.Extra["agreement"].GetDouble(), 12);
    }

    [Fact]
    public void Ties_are_kept_as_ties_which_train_reads_as_no_preference()
    {
        AnnotationExport.Write(_store, _out);
        var path = Path.Combine(_out, "ties.jsonl");
        var tie = Assert.IsType<RankedGroup>(Assert.Single(new PreferenceReader(path).ReadRecords()));
        Assert.Equal("t1", tie.Id);
        Assert.Equal([0, 0], tie.Ranks);
        Assert.Equal("ann1,ann2,ann3", tie.Extra["annotator"].GetString());
        Assert.Equal(["A", "B", "tie"], tie.Extra["votes"].EnumerateArray().Select(v => v.GetProperty("preferred").GetString()));
        var (pairs, report) = PreferenceReader.ReadAllPairs(path);
        Assert.Empty(pairs);
        Assert.Equal(1, report.TiesSkipped);
    }

    [Fact]
    public void Rankings_and_ratings_are_written_in_the_formats_train_reads()
    {
        var summary = AnnotationExport.Write(_store, _out);
        var ranking = Assert.IsType<RankedGroup>(Assert.Single(new PreferenceReader(Path.Combine(_out, "rankings.jsonl")).ReadRecords()));
        Assert.Equal([0, 0, 1], ranking.Ranks); // mean ranks 1.5, 1.5, 3
        Assert.Equal("ann1,ann2", ranking.Extra["annotator"].GetString());
        Assert.Equal([[0, 1, 2], [1, 0, 2]], ranking.Extra["rankings"].EnumerateArray().Select(r => r.GetProperty("ranks").EnumerateArray().Select(x => x.GetInt32()).ToArray()));
        var rated = new PreferenceReader(Path.Combine(_out, "ratings.jsonl")).ReadRecords().Cast<RatedResponse>().ToList();
        Assert.Equal([4.5, 2.0], rated.Select(r => r.Rating));
        Assert.All(rated, r => Assert.Equal("ann1,ann2", r.Annotator));
        Assert.Equal(5, rated[0].Extra["ratings"].GetProperty("ann1").GetInt32());
        var (fromRatings, _) = PreferenceReader.ReadAllPairs(Path.Combine(_out, "ratings.jsonl"));
        Assert.Equal("response 1 of s0", Assert.Single(fromRatings).Chosen);
        Assert.Equal(3, summary.TrainingFiles.Count);
        Assert.DoesNotContain(summary.TrainingFiles, f => f.EndsWith("ties.jsonl", StringComparison.Ordinal));
    }

    [Fact]
    public void Gold_questions_and_unlabelled_tasks_stay_out_of_the_training_files_and_every_label_is_in_annotations_jsonl()
    {
        var summary = AnnotationExport.Write(_store, _out);
        Assert.Equal((1, 1), (summary.GoldLeftOut, summary.Unlabelled));
        Assert.Equal(2, summary.BelowK); // r0 and s0 have 2 of 3 labels
        var ids = Directory.GetFiles(_out, "*.jsonl").Where(f => !f.EndsWith("annotations.jsonl", StringComparison.Ordinal))
            .SelectMany(f => new PreferenceReader(f).ReadRecords()).Select(r => r.Id!).ToList();
        Assert.DoesNotContain(ids, id => id.StartsWith("g0", StringComparison.Ordinal) || id.StartsWith("t3", StringComparison.Ordinal));
        var lines = File.ReadAllLines(Path.Combine(_out, "annotations.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(summary.Labels, lines.Count);
        Assert.Equal(_store.Snapshot().Labels.Count, lines.Count);
        var gold = Assert.Single(lines, l => l.GetProperty("gold").GetBoolean());
        Assert.Equal(1, gold.GetProperty("gold_score").GetDouble());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_out, "summary.json")));
        Assert.Equal(2, json.RootElement.GetProperty("export").GetProperty("pairs").GetInt32());
        Assert.True(json.RootElement.GetProperty("report").GetProperty("agreement").GetArrayLength() >= 1);
    }

    [Fact]
    public void A_training_file_with_no_records_is_removed_rather_than_left_stale()
    {
        File.WriteAllText(Path.Combine(_out, "ties.jsonl"), "stale");
        var empty = Store([Pair("only")], k: 1);
        try
        {
            empty.Invite("a", AnnotatorRole.Annotator);
            empty.NextTask("a");
            empty.Submit("only", "a", Choose(PairChoice.B), null);
            var summary = AnnotationExport.Write(empty, _out);
            Assert.Equal(1, summary.Pairs);
            Assert.False(File.Exists(Path.Combine(_out, "ties.jsonl")));
            Assert.Empty(Directory.GetFiles(_out, "*.tmp"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(Path.GetDirectoryName(empty.Path)!, true);
        }
    }
}
