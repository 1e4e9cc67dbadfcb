using System.Security.Cryptography;
using RewardKit.Data;
using RewardKit.Text;

namespace RewardKit.Training;

/// <summary>One preference pair as token ids, ready to batch.</summary>
/// <param name="Chosen">The chosen sequence [prompt ; response].</param>
/// <param name="Rejected">The rejected sequence.</param>
/// <param name="Margin">The pair's margin field (0 when absent).</param>
/// <param name="Weight">The pair's weight field (1 when absent).</param>
public sealed record EncodedPair(EncodedSequence Chosen, EncodedSequence Rejected, float Margin, float Weight)
{
    /// <summary>The longer of the two sequences (what the batch is padded to).</summary>
    public int MaxLength => Math.Max(Chosen.Length, Rejected.Length);

    /// <summary>The record's per-objective labels (objective → sign of chosen − rejected; the world's <c>labels</c>), often none.</summary>
    public IReadOnlyDictionary<string, double> Labels { get; init; } = Data.PreferenceRecord.EmptyLabels;
}

/// <summary>
/// What the data pipeline found before step 1, so that nothing is dropped silently: pairs read, skipped by the reader,
/// truncated, dropped (with reasons), duplicates, chosen == rejected, and whether the pooled token lies inside the response.
/// </summary>
public sealed record StartupChecks
{
    /// <summary>Which split ("train" or "eval").</summary>
    public required string Split { get; init; }
    /// <summary>The data file.</summary>
    public required string File { get; init; }
    /// <summary>Pairs the reader returned.</summary>
    public long PairsRead { get; init; }
    /// <summary>Records the reader skipped (with <see cref="RewardTrainingOptions.SkipInvalid"/>).</summary>
    public long RecordsSkipped { get; init; }
    /// <summary>Pairs kept for training or evaluation.</summary>
    public long PairsKept { get; init; }
    /// <summary>Sequences (two per pair) whose prompt was cut from the left.</summary>
    public long PromptsTruncated { get; init; }
    /// <summary>Sequences whose response end was cut (the response alone exceeded max_length).</summary>
    public long ResponsesTruncated { get; init; }
    /// <summary>Pairs left out, by reason.</summary>
    public IReadOnlyDictionary<string, long> Dropped { get; init; } = new Dictionary<string, long>();
    /// <summary>Pairs whose (prompt, chosen, rejected) repeats an earlier pair (kept, reported).</summary>
    public long Duplicates { get; init; }
    /// <summary>Pairs whose chosen text equals the rejected text (dropped: they carry no preference).</summary>
    public long ChosenEqualsRejected { get; init; }
    /// <summary>Sequences whose pooled (last) token lies inside the response: should equal 2 × <see cref="PairsKept"/>.</summary>
    public long PooledInsideResponse { get; init; }
    /// <summary>The longest kept sequence in tokens.</summary>
    public int LongestSequence { get; init; }

    /// <summary>The checks as lines for a log.</summary>
    public IEnumerable<string> Lines()
    {
        yield return $"{Split}: {File}: {PairsRead} pairs read, {RecordsSkipped} invalid records skipped, {PairsKept} kept, longest {LongestSequence} tokens";
        yield return $"{Split}: truncation: {PromptsTruncated} prompts cut from the left, {ResponsesTruncated} responses cut at the end";
        foreach (var (reason, count) in Dropped) yield return $"{Split}: dropped {count} pairs: {reason}";
        yield return $"{Split}: {Duplicates} duplicate pairs (kept), {ChosenEqualsRejected} with chosen == rejected (dropped)";
        yield return $"{Split}: pooled token inside the response for {PooledInsideResponse} of {2 * PairsKept} sequences"
            + (PooledInsideResponse == 2 * PairsKept ? " (ok)" : " (NOT ALL)");
    }
}

/// <summary>A split encoded for training: the pairs, the checks of each file and the data's sha256 (see <see cref="TrainingData.Sha256(IReadOnlyList{string})"/>).</summary>
internal sealed record EncodedSplit(IReadOnlyList<EncodedPair> Pairs, IReadOnlyList<StartupChecks> Checks, string Sha256);

/// <summary>One file of a split as read: its path, its pairs and the reader's report.</summary>
internal sealed record ReadFile(string Path, List<PreferencePair> Pairs, ReadReport Report);

/// <summary>Reading, template choice and encoding of preference files.</summary>
internal static class TrainingData
{
    /// <summary>Reads a file's pairs in one pass, hashing it on the way (<see cref="ReadReport.Sha256"/>), so a pipe or FIFO works.</summary>
    public static (List<PreferencePair> Pairs, ReadReport Report) Read(string path, RewardTrainingOptions options, CancellationToken ct) =>
        PreferenceReader.ReadAllPairs(path, new ReaderOptions { SkipInvalid = options.SkipInvalid, ComputeSha256 = true }, ct);

    /// <summary>hh when the prompts are HH-RLHF transcripts ("\n\nHuman:"), else plain, unless the options name one.</summary>
    public static string ChooseTemplate(RewardTrainingOptions options, IReadOnlyList<PreferencePair> pairs) =>
        options.Template ?? (pairs.Any(p => p.Prompt.Contains("\n\nHuman:", StringComparison.Ordinal)) ? "hh" : "plain");

    /// <summary>The texts a BPE tokenizer is trained on: each prompt once, every response.</summary>
    public static IEnumerable<string> Texts(IReadOnlyList<PreferencePair> pairs, PromptTemplate template)
    {
        string? lastPrompt = null;
        foreach (var p in pairs)
        {
            var c = template.Render(p.Prompt, p.Chosen);
            if (!string.Equals(p.Prompt, lastPrompt, StringComparison.Ordinal)) yield return c.Prompt;
            lastPrompt = p.Prompt;
            yield return c.Response;
            yield return template.Render(p.Prompt, p.Rejected).Response;
        }
    }

    /// <summary>
    /// Encodes the files of a split, in order, into one list of pairs, with start-up checks per file; a pair repeated in a
    /// later file counts as a duplicate there (kept, as within a file).
    /// </summary>
    public static EncodedSplit Encode(string split, IReadOnlyList<ReadFile> files, SequenceEncoder encoder, CancellationToken ct) =>
        Encode(split, files, new PairEncoding((p, r, t, w) => encoder.Encode(p, r, t, w), encoder.Options.MaxLength, TokensAfterResponse: 0), ct);

    /// <summary>As the overload above, for a BERT cross-encoder's [CLS] prompt [SEP] response [SEP] sequences.</summary>
    public static EncodedSplit Encode(string split, IReadOnlyList<ReadFile> files, CrossEncoderSequenceEncoder encoder, CancellationToken ct) =>
        Encode(split, files, new PairEncoding((p, r, t, w) => encoder.Encode(p, r, t, w), encoder.Options.MaxLength, TokensAfterResponse: 1), ct);

    static EncodedSplit Encode(string split, IReadOnlyList<ReadFile> files, PairEncoding encoder, CancellationToken ct)
    {
        var seen = new HashSet<(string, string, string)>();
        var kept = new List<EncodedPair>(files.Sum(f => f.Pairs.Count));
        var checks = files.Select(f => Encode(split, f.Path, f.Pairs, f.Report, encoder, seen, kept, ct)).ToArray();
        if (kept.Count == 0)
            throw new InvalidDataException($"{string.Join(", ", files.Select(f => f.Path))}: no usable pairs ({string.Join("; ", checks.SelectMany(c => c.Lines()))}); check the files and max_length.");
        var digests = files.Select(f => f.Report.Sha256 ?? throw new InvalidOperationException($"{f.Path} was read without ComputeSha256.")).ToArray();
        return new EncodedSplit(kept, checks, Combine(digests));
    }

    /// <summary>How a split's sequences are made: the encoder, its maximum length and the special tokens after the response ([SEP]).</summary>
    sealed record PairEncoding(Func<string, string, TruncationReport, string, EncodedSequence?> Encode, int MaxLength, int TokensAfterResponse);

    static StartupChecks Encode(string split, string path, List<PreferencePair> pairs, ReadReport report, PairEncoding encoder,
        HashSet<(string, string, string)> seen, List<EncodedPair> kept, CancellationToken ct)
    {
        var truncation = new TruncationReport();
        var dropped = new Dictionary<string, long>();
        void Drop(string reason) => dropped[reason] = dropped.GetValueOrDefault(reason) + 1;
        long duplicates = 0, identical = 0, pooledInside = 0;
        int longest = 0, before = kept.Count;
        foreach (var p in pairs)
        {
            ct.ThrowIfCancellationRequested();
            if (!seen.Add((p.Prompt, p.Chosen, p.Rejected))) duplicates++;
            if (string.Equals(p.Chosen, p.Rejected, StringComparison.Ordinal)) { identical++; continue; }
            string where = $"{path}:{p.LineNumber}";
            var c = encoder.Encode(p.Prompt, p.Chosen, truncation, where + " chosen");
            var r = encoder.Encode(p.Prompt, p.Rejected, truncation, where + " rejected");
            if (c is null || r is null) { Drop($"longer than max_length = {encoder.MaxLength} (on_overflow: drop)"); continue; }
            if (c.ResponseStart + encoder.TokensAfterResponse >= c.Length || r.ResponseStart + encoder.TokensAfterResponse >= r.Length)
            {
                Drop("a response encodes to no tokens, so the pooled token would lie in the prompt");
                continue;
            }
            pooledInside += 2;
            longest = Math.Max(longest, Math.Max(c.Length, r.Length));
            kept.Add(new EncodedPair(c, r, (float)(p.Margin ?? 0), (float)(p.Weight ?? 1)) { Labels = p.Labels });
        }
        return new StartupChecks
        {
            Split = split, File = path, PairsRead = pairs.Count, RecordsSkipped = report.SkippedCount, PairsKept = kept.Count - before,
            PromptsTruncated = truncation.PromptTruncated, ResponsesTruncated = truncation.ResponseTruncated,
            Dropped = dropped, Duplicates = duplicates, ChosenEqualsRejected = identical, PooledInsideResponse = pooledInside,
            LongestSequence = longest,
        };
    }

    /// <summary>
    /// The sha256 of the data: of the file itself when there is one; of several, the sha256 of their digests in order (hex,
    /// one per line), so the same files in the same order give the same value and any change in any file changes it.
    /// </summary>
    public static string Sha256(IReadOnlyList<string> paths)
    {
        static string Of(string path)
        {
            using var stream = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        return Combine(paths.Select(Of).ToArray());
    }

    /// <summary>The data's sha256 from the digests of its files, in order (see <see cref="Sha256(IReadOnlyList{string})"/>).</summary>
    public static string Combine(IReadOnlyList<string> digests) =>
        digests.Count == 1 ? digests[0] : Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", digests))));
}
