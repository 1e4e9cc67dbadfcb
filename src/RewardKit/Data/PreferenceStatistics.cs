using System.Security.Cryptography;
using System.Text;

namespace RewardKit.Data;

/// <summary>Length percentiles of a set of texts (linear interpolation between order statistics, as numpy's default).</summary>
/// <param name="Count">Texts measured.</param>
/// <param name="P5">5th percentile.</param>
/// <param name="P50">Median.</param>
/// <param name="P95">95th percentile.</param>
/// <param name="Max">Longest.</param>
public sealed record LengthPercentiles(long Count, double P5, double P50, double P95, double Max)
{
    /// <summary>The percentiles of <paramref name="lengths"/> (sorted in place); all zero when empty.</summary>
    public static LengthPercentiles Of(List<int> lengths)
    {
        if (lengths.Count == 0) return new(0, 0, 0, 0, 0);
        lengths.Sort();
        return new(lengths.Count, At(lengths, 0.05), At(lengths, 0.50), At(lengths, 0.95), lengths[^1]);
    }

    static double At(List<int> sorted, double q)
    {
        var pos = q * (sorted.Count - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}

/// <summary>
/// What <c>rewardkit data stats</c> reports about a preference file. Pair-level numbers (duplicates, contradictions,
/// longer-wins) are over the pairs the file implies (<see cref="PreferenceReader.ReadPairs"/>: rankings and ratings
/// become pairs); record-level numbers (categories, lengths) are over the records as written.
/// </summary>
public sealed record PreferenceStatistics
{
    /// <summary>The file read.</summary>
    public required string File { get; init; }

    /// <summary>The record format found.</summary>
    public required RecordFormat Format { get; init; }

    /// <summary>Records accepted.</summary>
    public required long Records { get; init; }

    /// <summary>Invalid records skipped (only with <see cref="ReaderOptions.SkipInvalid"/>); their details are in <see cref="Report"/>.</summary>
    public required long Skipped { get; init; }

    /// <summary>Preference pairs the records imply.</summary>
    public required long Pairs { get; init; }

    /// <summary>Distinct prompts.</summary>
    public required long Prompts { get; init; }

    /// <summary>Records per <c>category</c> (records without one under <c>(none)</c>), largest first.</summary>
    public required IReadOnlyList<KeyValuePair<string, long>> Categories { get; init; }

    /// <summary>Prompt lengths in characters (UTF-16 code units), one per record.</summary>
    public required LengthPercentiles PromptChars { get; init; }

    /// <summary>Response lengths in characters, every response of every record.</summary>
    public required LengthPercentiles ResponseChars { get; init; }

    /// <summary>Prompt lengths in tokens, when a token counter was given.</summary>
    public LengthPercentiles? PromptTokens { get; init; }

    /// <summary>Response lengths in tokens, when a token counter was given.</summary>
    public LengthPercentiles? ResponseTokens { get; init; }

    /// <summary>Pairs identical in prompt, chosen and rejected to an earlier pair.</summary>
    public required long DuplicatePairs { get; init; }

    /// <summary>Records whose id was already used.</summary>
    public required long DuplicateIds { get; init; }

    /// <summary>Distinct (prompt, A, B) for which the file says both A &gt; B and B &gt; A.</summary>
    public required long ContradictoryPairs { get; init; }

    /// <summary>Responses compared as equal (same rank or same rating), which make no pair.</summary>
    public required long Ties { get; init; }

    /// <summary>Pairs whose chosen and rejected have the same length in characters (left out of <see cref="LongerWinsShare"/>).</summary>
    public required long EqualLengthPairs { get; init; }

    /// <summary>Among pairs of different lengths, the share whose chosen response is the longer one (a length-only baseline's accuracy).</summary>
    public required double LongerWinsShare { get; init; }

    /// <summary>The reader's report (skipped records with line and field, warnings).</summary>
    public required ReadReport Report { get; init; }

    /// <summary>
    /// Reads <paramref name="path"/> once (streaming; memory grows with the number of records only by a 16-byte hash and
    /// a few lengths each) and computes the statistics. <paramref name="countTokens"/>, when given, measures lengths in tokens too.
    /// </summary>
    public static PreferenceStatistics Compute(string path, ReaderOptions? options = null, Func<string, int>? countTokens = null, CancellationToken cancellationToken = default)
    {
        var reader = new PreferenceReader(path, options);
        var categories = new Dictionary<string, long>(StringComparer.Ordinal);
        List<int> promptChars = [], responseChars = [], promptTokens = [], responseTokens = [];
        var prompts = new HashSet<UInt128>();
        var seenPairs = new HashSet<UInt128>();
        var contradicted = new HashSet<UInt128>();
        long pairs = 0, duplicates = 0, equalLength = 0, longerWins = 0;
        var ratings = new OrderedDictionary<string, List<RatedResponse>>(StringComparer.Ordinal);
        var mode = (options ?? ReaderOptions.Default).RankingPairs;

        void Measure(string text, List<int> chars, List<int> tokens)
        {
            chars.Add(text.Length);
            if (countTokens is not null) tokens.Add(countTokens(text));
        }

        void CountPair(PreferencePair p)
        {
            pairs++;
            if (!seenPairs.Add(Hash(p.Prompt, p.Chosen, p.Rejected))) duplicates++;
            else if (seenPairs.Contains(Hash(p.Prompt, p.Rejected, p.Chosen)))
                contradicted.Add(string.CompareOrdinal(p.Chosen, p.Rejected) < 0 ? Hash(p.Prompt, p.Chosen, p.Rejected) : Hash(p.Prompt, p.Rejected, p.Chosen));
            if (p.Chosen.Length == p.Rejected.Length) equalLength++;
            else if (p.Chosen.Length > p.Rejected.Length) longerWins++;
        }

        foreach (var record in reader.ReadRecords(cancellationToken))
        {
            var category = record.Category ?? "(none)";
            categories[category] = categories.GetValueOrDefault(category) + 1;
            prompts.Add(Hash(record.Prompt));
            Measure(record.Prompt, promptChars, promptTokens);
            switch (record)
            {
                case PreferencePair p:
                    Measure(p.Chosen, responseChars, responseTokens);
                    Measure(p.Rejected, responseChars, responseTokens);
                    CountPair(p);
                    break;
                case RankedGroup g:
                    foreach (var r in g.Responses) Measure(r, responseChars, responseTokens);
                    foreach (var p in PairConversions.FromRanking(g, mode, reader.Report)) CountPair(p);
                    break;
                case RatedResponse r:
                    Measure(r.Response, responseChars, responseTokens);
                    if (!ratings.TryGetValue(r.Prompt, out var list)) ratings[r.Prompt] = list = [];
                    list.Add(r);
                    break;
            }
        }
        foreach (var (_, group) in ratings)
            foreach (var p in PairConversions.FromRatings(group, reader.Report)) CountPair(p);

        var report = reader.Report;
        var differing = pairs - equalLength;
        return new PreferenceStatistics
        {
            File = path,
            Format = report.Format,
            Records = report.RecordsRead,
            Skipped = report.SkippedCount,
            Pairs = pairs,
            Prompts = prompts.Count,
            Categories = [.. categories.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)],
            PromptChars = LengthPercentiles.Of(promptChars),
            ResponseChars = LengthPercentiles.Of(responseChars),
            PromptTokens = countTokens is null ? null : LengthPercentiles.Of(promptTokens),
            ResponseTokens = countTokens is null ? null : LengthPercentiles.Of(responseTokens),
            DuplicatePairs = duplicates,
            DuplicateIds = report.DuplicateIds,
            ContradictoryPairs = contradicted.Count,
            Ties = report.TiesSkipped,
            EqualLengthPairs = equalLength,
            LongerWinsShare = differing == 0 ? double.NaN : (double)longerWins / differing,
            Report = report,
        };
    }

    /// <summary>A 128-bit digest of texts (NUL-separated), so sets of millions of records stay small.</summary>
    internal static UInt128 Hash(params ReadOnlySpan<string> texts)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> sep = [0, 0xFF];
        foreach (var t in texts)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(t));
            sha.AppendData(sep);
        }
        Span<byte> digest = stackalloc byte[32];
        sha.GetHashAndReset(digest);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }
}
