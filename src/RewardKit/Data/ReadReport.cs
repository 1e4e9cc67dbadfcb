namespace RewardKit.Data;

/// <summary>One problem found in a file: where, which field, and what is wrong.</summary>
/// <param name="File">The file path.</param>
/// <param name="Line">1-based line number (0 for the file as a whole).</param>
/// <param name="Field">The field at fault, or null when the whole record is (e.g. invalid JSON).</param>
/// <param name="Message">What is wrong and how to fix it.</param>
public sealed record DataIssue(string File, long Line, string? Field, string Message)
{
    /// <summary><c>FILE:LINE: message</c>.</summary>
    public override string ToString() => $"{File}:{Line}: {Message}";
}

/// <summary>
/// What a read found: how many records were accepted, which were skipped (only with <see cref="ReaderOptions.SkipInvalid"/>)
/// and why, and the warnings about records that were accepted anyway.
/// Accepted with a warning: empty or whitespace-only responses, duplicate ids, ties in ratings (no pair is made).
/// Accepted silently but counted: a UTF-8 byte order mark, CRLF line ends, blank lines.
/// Errors (stop, or skip with SkipInvalid): invalid JSON or truncated lines, invalid UTF-8, wrong types (e.g. a JSON
/// boolean where text belongs), missing required fields, chosen == rejected, non-finite or out-of-range numbers,
/// mismatched ranks, records of another format, records above <see cref="ReaderOptions.MaxRecordBytes"/>.
/// </summary>
public sealed class ReadReport
{
    readonly List<DataIssue> _skipped = [];
    readonly List<DataIssue> _warnings = [];
    readonly int _maxKept;

    /// <summary>A report for <paramref name="file"/> that keeps at most <paramref name="maxIssuesKept"/> issue details of each kind.</summary>
    public ReadReport(string file, int maxIssuesKept = 10_000)
    {
        File = file;
        _maxKept = maxIssuesKept;
    }

    /// <summary>The file read.</summary>
    public string File { get; }

    /// <summary>The record format found (or asked for).</summary>
    public RecordFormat Format { get; internal set; }

    /// <summary>The container read.</summary>
    public FileContainer Container { get; internal set; }

    /// <summary>Records accepted (as written in the file, before any conversion to pairs).</summary>
    public long RecordsRead { get; internal set; }

    /// <summary>Invalid records skipped (all of them, even beyond the details kept).</summary>
    public long SkippedCount { get; private set; }

    /// <summary>Warnings raised (all of them).</summary>
    public long WarningCount { get; private set; }

    /// <summary>Details of skipped records (up to <see cref="ReaderOptions.MaxIssuesKept"/>).</summary>
    public IReadOnlyList<DataIssue> Skipped => _skipped;

    /// <summary>Details of warnings (up to <see cref="ReaderOptions.MaxIssuesKept"/>).</summary>
    public IReadOnlyList<DataIssue> Warnings => _warnings;

    /// <summary>True when the file started with a UTF-8 byte order mark (accepted and ignored).</summary>
    public bool HadByteOrderMark { get; internal set; }

    /// <summary>Lines that ended in CRLF (accepted; the CR is not part of the record).</summary>
    public long CrlfLines { get; internal set; }

    /// <summary>Blank lines (accepted and ignored).</summary>
    public long BlankLines { get; internal set; }

    /// <summary>Pairs whose prompt was implicit (HH-RLHF transcripts) and was split off at the shared <c>\n\nAssistant:</c>.</summary>
    public long ImplicitPromptPairs { get; internal set; }

    /// <summary>Records whose id was already seen (accepted, warned).</summary>
    public long DuplicateIds { get; internal set; }

    /// <summary>The sha256 (lower-case hex) of every byte of the file, set when the read reached its end with
    /// <see cref="ReaderOptions.ComputeSha256"/>; null otherwise.</summary>
    public string? Sha256 { get; internal set; }

    /// <summary>Pairs from ratings or rankings that were not made because the two responses tied.</summary>
    public long TiesSkipped { get; internal set; }

    internal void Skip(DataIssue issue)
    {
        SkippedCount++;
        if (_skipped.Count < _maxKept) _skipped.Add(issue);
    }

    internal void Warn(DataIssue issue)
    {
        WarningCount++;
        if (_warnings.Count < _maxKept) _warnings.Add(issue);
    }

    /// <summary>A one-line summary, e.g. "894 records read, 6 skipped, 52 warnings".</summary>
    public string Summary()
    {
        var parts = new List<string> { $"{RecordsRead} records read ({Format}, {Container})" };
        if (SkippedCount > 0) parts.Add($"{SkippedCount} invalid skipped");
        if (WarningCount > 0) parts.Add($"{WarningCount} warnings");
        if (ImplicitPromptPairs > 0) parts.Add($"{ImplicitPromptPairs} implicit prompts split");
        if (HadByteOrderMark) parts.Add("UTF-8 BOM ignored");
        if (CrlfLines > 0) parts.Add($"{CrlfLines} CRLF lines");
        if (BlankLines > 0) parts.Add($"{BlankLines} blank lines ignored");
        if (TiesSkipped > 0) parts.Add($"{TiesSkipped} tied pairs not made");
        return string.Join(", ", parts);
    }
}
