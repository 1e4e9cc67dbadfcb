using RewardKit.Data;

namespace RewardKit.Tests.DataFormats;

public sealed class PreferenceStatisticsTests : IDisposable
{
    readonly DataFiles _files = new();
    public void Dispose() => _files.Dispose();

    [Fact]
    public void Duplicates_contradictions_and_the_longer_wins_share_are_counted()
    {
        var path = _files.Write(string.Join("\n",
            """{"prompt": "p", "chosen": "long answer", "rejected": "no", "category": "x"}""",
            """{"prompt": "p", "chosen": "long answer", "rejected": "no", "category": "x"}""",   // duplicate
            """{"prompt": "p", "chosen": "no", "rejected": "long answer", "category": "y"}""",   // contradicts the first
            """{"prompt": "q", "chosen": "ab", "rejected": "cd"}""",                             // equal length
            """{"prompt": "q", "chosen": "a", "rejected": "bcd"}""") + "\n");
        var s = PreferenceStatistics.Compute(path);
        Assert.Equal((5L, 5L, 2L), (s.Records, s.Pairs, s.Prompts));
        Assert.Equal(1, s.DuplicatePairs);
        Assert.Equal(1, s.ContradictoryPairs);
        Assert.Equal(1, s.EqualLengthPairs);
        Assert.Equal(2.0 / 4, s.LongerWinsShare, 12); // pairs 1, 2 longer wins; 3, 5 shorter wins
        // largest first, then by name (ordinal)
        Assert.Equal([new KeyValuePair<string, long>("(none)", 2), new("x", 2), new("y", 1)], s.Categories);
    }

    [Fact]
    public void Length_percentiles_interpolate_between_order_statistics()
    {
        var p = LengthPercentiles.Of([.. Enumerable.Range(0, 101).Reverse()]);
        Assert.Equal((101L, 5.0, 50.0, 95.0, 100.0), (p.Count, p.P5, p.P50, p.P95, p.Max));
        var q = LengthPercentiles.Of([10, 20]);
        Assert.Equal(15.0, q.P50);
        Assert.Equal(10.5, q.P5, 12);
    }

    [Fact]
    public void Ties_in_rankings_are_counted_and_token_lengths_use_the_counter()
    {
        var path = _files.Write("""{"prompt": "one two", "responses": ["a b c", "d", "e f"], "ranks": [0, 1, 1]}""" + "\n");
        var s = PreferenceStatistics.Compute(path, countTokens: t => t.Split(' ').Length);
        Assert.Equal(2, s.Pairs);
        Assert.Equal(1, s.Ties);
        Assert.Equal(1.0, s.LongerWinsShare);
        Assert.Equal(2.0, s.PromptTokens!.Max);
        Assert.Equal((3L, 3.0), (s.ResponseTokens!.Count, s.ResponseTokens.Max));
    }

    [SharedDataFact]
    public void PandaLM_stats_are_of_the_valid_records_and_list_the_six_invalid_ones()
    {
        var path = SharedData.PathOf("data/pandalm-test.jsonl");
        var s = PreferenceStatistics.Compute(path, new ReaderOptions { SkipInvalid = true });
        Assert.Equal(6, s.Skipped);
        Assert.Equal(File.ReadLines(path).Count() - 6, s.Records);
        Assert.Equal(s.Records, s.Categories.Sum(c => c.Value));
        Assert.All(s.Report.Skipped, i => Assert.Equal("chosen", i.Field));
    }
}
