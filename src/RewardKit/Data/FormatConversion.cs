namespace RewardKit.Data;

/// <summary>
/// Converts a preference file between containers (JSONL, CSV) and record formats. Keeping the format
/// (<see cref="RecordFormat.Auto"/>) is lossless: every field, extras included, reads back the same. Changing it:
/// to pairs, rankings give every pair with different ranks and ratings every pair with different ratings (ties counted,
/// no pair); to rankings, a pair becomes a group of two and the ratings of one prompt a group (ratings kept in an extra
/// field); to ratings, a ranked group's response of rank r among d distinct ranks gets rating d - index(r) (best = d).
/// Pairs cannot become ratings without inventing scores; that throws <see cref="ArgumentException"/>.
/// </summary>
public static class FormatConversion
{
    /// <summary>Converts <paramref name="input"/> to <paramref name="output"/> and returns the count written and the read report.</summary>
    public static (long Written, RecordFormat From, RecordFormat To, ReadReport Report) Convert(string input, string output, RecordFormat to = RecordFormat.Auto,
        FileContainer container = FileContainer.Auto, ReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (string.Equals(Path.GetFullPath(input), Path.GetFullPath(output), StringComparison.Ordinal))
            throw new ArgumentException($"--out {output} is the input file; write to another file", nameof(output));
        options ??= ReaderOptions.Default;
        var reader = new PreferenceReader(input, options);
        using var writer = PreferenceWriter.Create(output, container);
        foreach (var record in Records(reader, to, options.RankingPairs, cancellationToken)) writer.Write(record);
        return (writer.Count, reader.Report.Format, writer.Format == RecordFormat.Auto ? to : writer.Format, reader.Report);
    }

    static IEnumerable<PreferenceRecord> Records(PreferenceReader reader, RecordFormat to, RankingPairs mode, CancellationToken ct)
    {
        if (to == RecordFormat.Auto)
        {
            foreach (var r in reader.ReadRecords(ct)) yield return r;
            yield break;
        }
        if (to == RecordFormat.Pairs)
        {
            foreach (var p in reader.ReadPairs(ct)) yield return p;
            yield break;
        }
        var ratings = new OrderedDictionary<string, List<RatedResponse>>(StringComparer.Ordinal);
        foreach (var record in reader.ReadRecords(ct))
        {
            switch (record, to)
            {
                case (RatedResponse r, RecordFormat.Ratings): yield return r; break;
                case (RatedResponse r, _):
                    if (!ratings.TryGetValue(r.Prompt, out var list)) ratings[r.Prompt] = list = [];
                    list.Add(r);
                    break;
                case (RankedGroup g, RecordFormat.Rankings): yield return g; break;
                case (RankedGroup g, _):
                    foreach (var r in ToRatings(g)) yield return r;
                    break;
                case (PreferencePair p, RecordFormat.Rankings): yield return PairConversions.ToRanking(p); break;
                case (PreferencePair, _):
                    throw new ArgumentException($"{reader.Report.File}:{record.LineNumber}: pairs cannot become ratings without inventing scores; convert to rankings (--to rankings) instead", nameof(to));
            }
        }
        foreach (var (_, group) in ratings)
        {
            if (group.Count < 2)
                throw new ArgumentException($"{reader.Report.File}:{group[0].LineNumber}: the prompt of this rating has only one rating, and a ranking needs two; keep it as ratings", nameof(to));
            yield return PairConversions.ToRanking(group);
        }
    }

    /// <summary>A ranked group as ratings: rating = d - index of the rank among the d distinct ranks (best = d).</summary>
    public static IEnumerable<RatedResponse> ToRatings(RankedGroup group)
    {
        var distinct = group.Ranks.Distinct().Order().ToList();
        for (var i = 0; i < group.Responses.Count; i++)
            yield return new RatedResponse
            {
                Prompt = group.Prompt,
                PromptMessages = group.PromptMessages,
                Response = group.Responses[i],
                Rating = distinct.Count - distinct.IndexOf(group.Ranks[i]),
                GoldReward = group.GoldRewards?[i],
                Id = group.Id is null ? null : $"{group.Id}:{i}",
                Category = group.Category,
                Source = group.Source,
                Extra = group.Extra,
                LineNumber = group.LineNumber,
            };
    }
}
