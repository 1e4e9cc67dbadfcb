namespace RewardKit.Data;

/// <summary>The kind of records a file holds.</summary>
public enum RecordFormat
{
    /// <summary>Detect from the first record: <c>responses</c> means rankings, <c>response</c>+<c>rating</c> ratings, otherwise pairs.</summary>
    Auto,
    /// <summary>Preference pairs (<c>prompt</c>/<c>chosen</c>/<c>rejected</c>; <c>prompt</c> may be implicit as in HH-RLHF).</summary>
    Pairs,
    /// <summary>Ranked groups (<c>prompt</c>/<c>responses</c>/<c>ranks</c>).</summary>
    Rankings,
    /// <summary>Rated responses (<c>prompt</c>/<c>response</c>/<c>rating</c>).</summary>
    Ratings,
}

/// <summary>The container a file is written in.</summary>
public enum FileContainer
{
    /// <summary>Decide from the extension: <c>.csv</c> is CSV, anything else JSON Lines.</summary>
    Auto,
    /// <summary>One JSON object per line (UTF-8).</summary>
    Jsonl,
    /// <summary>Comma-separated values with a header row (UTF-8, RFC 4180 quoting).</summary>
    Csv,
}

/// <summary>How rankings are turned into pairs.</summary>
public enum RankingPairs
{
    /// <summary>Every pair of responses with different ranks (k(k-1)/2 minus ties).</summary>
    All,
    /// <summary>Only neighbours in rank order (best vs second, second vs third, ...).</summary>
    Adjacent,
}

/// <summary>Options of <see cref="PreferenceReader"/>.</summary>
public sealed record ReaderOptions
{
    /// <summary>Skip invalid records (each is listed in <see cref="ReadReport.Skipped"/> with line and reason) instead of
    /// stopping at the first one with an <see cref="System.IO.InvalidDataException"/>. Default false.</summary>
    public bool SkipInvalid { get; init; }

    /// <summary>The record format; default <see cref="RecordFormat.Auto"/> (detected per file from the first record).</summary>
    public RecordFormat Format { get; init; } = RecordFormat.Auto;

    /// <summary>The container; default <see cref="FileContainer.Auto"/> (from the extension).</summary>
    public FileContainer Container { get; init; } = FileContainer.Auto;

    /// <summary>Largest accepted record (one JSONL line or CSV row) in bytes; default 64 MiB. Longer records are invalid.</summary>
    public int MaxRecordBytes { get; init; } = 64 << 20;

    /// <summary>How rankings become pairs in <see cref="PreferenceReader.ReadPairs"/>; default <see cref="RankingPairs.All"/>.</summary>
    public RankingPairs RankingPairs { get; init; } = RankingPairs.All;

    /// <summary>At most this many skipped records and warnings are kept with their details (all are counted); default 10,000.</summary>
    public int MaxIssuesKept { get; init; } = 10_000;

    /// <summary>Hash the file's bytes while reading it (<see cref="ReadReport.Sha256"/>), so that a pipe or FIFO, which can be
    /// read only once, still gets a digest. Default false (the hash costs time that validation does not need).</summary>
    public bool ComputeSha256 { get; init; }

    /// <summary>The default options: stop on the first bad record, detect everything.</summary>
    public static ReaderOptions Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (MaxRecordBytes < 1024) throw new ArgumentException($"ReaderOptions.MaxRecordBytes is {MaxRecordBytes}; use at least 1024.", nameof(MaxRecordBytes));
        if (MaxIssuesKept < 0) throw new ArgumentException("ReaderOptions.MaxIssuesKept must be >= 0.", nameof(MaxIssuesKept));
    }
}
