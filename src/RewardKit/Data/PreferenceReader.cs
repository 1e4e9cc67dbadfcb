using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using CsvHelper;

namespace RewardKit.Data;

/// <summary>
/// Streams preference records from a JSONL or CSV file: one record in memory at a time (ratings turned into pairs are
/// the exception: <see cref="ReadPairs"/> groups them by prompt). The format is detected from the first record unless
/// <see cref="ReaderOptions.Format"/> says otherwise. By default the first bad record stops the read with an
/// <see cref="InvalidDataException"/> naming file, line, field and the fix; with <see cref="ReaderOptions.SkipInvalid"/>
/// bad records are skipped and listed in <see cref="Report"/>. Enumerate once; <see cref="Report"/> fills as you go.
/// </summary>
/// <example><code>
/// var reader = new PreferenceReader("train.jsonl", new ReaderOptions { SkipInvalid = true });
/// foreach (var pair in reader.ReadPairs()) ...;
/// Console.WriteLine(reader.Report.Summary());
/// </code></example>
public sealed class PreferenceReader
{
    readonly string _path;
    readonly ReaderOptions _options;

    /// <summary>A reader of <paramref name="path"/>.</summary>
    public PreferenceReader(string path, ReaderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _options = options ?? ReaderOptions.Default;
        _options.Validate();
        _path = path;
        Report = new ReadReport(path, _options.MaxIssuesKept);
    }

    /// <summary>What the read has found so far (complete once enumeration ends).</summary>
    public ReadReport Report { get; }

    /// <summary>Bytes consumed so far, for progress bars (JSONL only; 0 for CSV).</summary>
    public long BytesRead { get; private set; }

    /// <summary>The container of <paramref name="path"/> under <paramref name="container"/>: CSV for a <c>.csv</c> extension.</summary>
    public static FileContainer ContainerOf(string path, FileContainer container = FileContainer.Auto) =>
        container != FileContainer.Auto ? container
        : string.Equals(Path.GetExtension(path), ".csv", StringComparison.OrdinalIgnoreCase) ? FileContainer.Csv : FileContainer.Jsonl;

    /// <summary>Reads every record as written (pairs, ranked groups or rated responses).</summary>
    public IEnumerable<PreferenceRecord> ReadRecords(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(_path)) throw new FileNotFoundException($"{_path}: file not found; check the path", _path);
        Report.Container = ContainerOf(_path, _options.Container);
        Report.Format = _options.Format;
        return Report.Container == FileContainer.Csv ? ReadCsv(cancellationToken) : ReadJsonl(cancellationToken);
    }

    /// <summary>
    /// Reads the file as preference pairs: pairs as they are; each ranked group as every pair with different ranks
    /// (or only adjacent ones, <see cref="ReaderOptions.RankingPairs"/>); ratings grouped by prompt into pairs in which
    /// the higher rating wins (ties make no pair and are counted in <see cref="ReadReport.TiesSkipped"/>).
    /// </summary>
    public IEnumerable<PreferencePair> ReadPairs(CancellationToken cancellationToken = default)
    {
        var ratings = new OrderedDictionary<string, List<RatedResponse>>(StringComparer.Ordinal);
        foreach (var record in ReadRecords(cancellationToken))
        {
            switch (record)
            {
                case PreferencePair p: yield return p; break;
                case RankedGroup g:
                    foreach (var p in PairConversions.FromRanking(g, _options.RankingPairs, Report)) yield return p;
                    break;
                case RatedResponse r:
                    if (!ratings.TryGetValue(r.Prompt, out var list)) ratings[r.Prompt] = list = [];
                    list.Add(r);
                    break;
            }
        }
        foreach (var (_, group) in ratings)
            foreach (var p in PairConversions.FromRatings(group, Report)) yield return p;
    }

    /// <summary>Reads all pairs of <paramref name="path"/> into a list (see <see cref="ReadPairs"/>), with the report.</summary>
    public static (List<PreferencePair> Pairs, ReadReport Report) ReadAllPairs(string path, ReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        var reader = new PreferenceReader(path, options);
        var pairs = reader.ReadPairs(cancellationToken).ToList();
        return (pairs, reader.Report);
    }

    IEnumerable<PreferenceRecord> ReadJsonl(CancellationToken ct)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var warnings = new List<string>();
        return ReadJsonlLines((fields, line) => Accept(fields, line, ids, warnings), ct);
    }

    /// <summary>
    /// Reads a JSONL file with the reader's line checks (UTF-8, JSON, size, blank lines, CRLF, BOM) and turns each
    /// object's fields into a <typeparamref name="T"/> with <paramref name="accept"/>. A bad line, or a
    /// <see cref="RecordException"/> from <paramref name="accept"/>, stops the read with FILE:LINE or, with
    /// <see cref="ReaderOptions.SkipInvalid"/>, is skipped and counted in <see cref="Report"/>. For readers of other
    /// record shapes (generations) that need this file handling; <see cref="Accept"/> parses a preference record.
    /// </summary>
    internal IEnumerable<T> ReadJsonlObjects<T>(Func<List<KeyValuePair<string, JsonElement>>, long, T> accept, CancellationToken ct = default)
    {
        if (!File.Exists(_path)) throw new FileNotFoundException($"{_path}: file not found; check the path", _path);
        Report.Container = FileContainer.Jsonl;
        return ReadJsonlLines(accept, ct);
    }

    IEnumerable<T> ReadJsonlLines<T>(Func<List<KeyValuePair<string, JsonElement>>, long, T> accept, CancellationToken ct)
    {
        using var stream = Open();
        var lines = new LineSplitter(stream, _options.MaxRecordBytes);
        long lineNumber = 0;
        while (lines.Next())
        {
            ct.ThrowIfCancellationRequested();
            lineNumber++;
            BytesRead = lines.Position;
            if (lineNumber == 1) Report.HadByteOrderMark = lines.HadBom;
            if (lines.Crlf) Report.CrlfLines++;
            if (!lines.TooLong && IsBlank(lines.Buffer.AsSpan(0, lines.Length)))
            {
                Report.BlankLines++;
                continue;
            }
            T record;
            try
            {
                if (lines.TooLong)
                    throw new RecordException(null, $"record is longer than {_options.MaxRecordBytes} bytes (ReaderOptions.MaxRecordBytes); raise the limit or shorten the record");
                var fields = ParseJsonLine(lines.Buffer.AsSpan(0, lines.Length));
                record = accept(fields, lineNumber);
            }
            catch (RecordException e)
            {
                Fail(lineNumber, e.Field, e.Message);
                continue;
            }
            yield return record;
        }
        Report.Sha256 = stream.FinishSha256();
    }

    /// <summary>Opens the file for its single forward read (a pipe or FIFO works: no seek, no length).</summary>
    HashingReadStream Open() =>
        new(new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), _options.ComputeSha256);

    IEnumerable<PreferenceRecord> ReadCsv(CancellationToken ct)
    {
        using var stream = Open();
        Report.HadByteOrderMark = stream.SkipByteOrderMark();
        // A strict decoder: invalid UTF-8 throws instead of becoming U+FFFD silently.
        using var text = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false);
        var options = new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = true,
            TrackLineNumbers = true,
            AllowLineBreaksInQuotes = true,
            MalformedData = CsvMalformedDataHandling.Throw,
            MaxRecordSize = _options.MaxRecordBytes,
        };
        using var csv = CsvReader.Create(text, options, false);
        string[] header;
        try
        {
            header = [.. csv.Headers];
        }
        catch (DecoderFallbackException)
        {
            throw InvalidUtf8(1, stream.InnerCanSeek);
        }
        catch (CsvFormatException e)
        {
            throw new InvalidDataException($"{_path}:1: the header row cannot be read ({e.Message}); the first row must name the columns, e.g. prompt,chosen,rejected");
        }
        var dup = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InvalidDataException($"{_path}:1: column '{dup.Key}' appears twice in the header; keep one");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var warnings = new List<string>();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            long line = 0;
            string?[] cells;
            try
            {
                if (!csv.Read()) break;
                line = csv.LineNumber;
                cells = new string?[header.Length];
                for (var i = 0; i < header.Length; i++) cells[i] = i < csv.FieldCount ? csv.GetString(i) : null;
            }
            catch (DecoderFallbackException)
            {
                throw InvalidUtf8(Math.Max(line, csv.LineNumber), stream.InnerCanSeek);
            }
            catch (CsvFormatException e)
            {
                throw new InvalidDataException($"{_path}: malformed CSV after line {Math.Max(line, csv.LineNumber)} ({e.Message}); quote cells that contain commas, quotes or newlines (a CSV cannot be resynchronised after bad quoting)");
            }
            PreferenceRecord record;
            try
            {
                if (csv.FieldCount != header.Length)
                    throw new RecordException(null, $"row has {csv.FieldCount} cells but the header has {header.Length}; quote cells that contain commas or newlines");
                record = Accept(CsvRows.ToFields(header, cells), line, ids, warnings);
            }
            catch (RecordException e)
            {
                Fail(line, e.Field, e.Message);
                continue;
            }
            yield return record;
        }
        Report.Sha256 = stream.FinishSha256();
    }

    /// <summary>
    /// The error for invalid UTF-8 in a CSV, naming the first bad line (the CSV reader decodes ahead, so its own line is not
    /// it): a regular file is read again to find it; a pipe cannot be, so the message says where the reader was.
    /// </summary>
    InvalidDataException InvalidUtf8(long readerLine, bool seekable)
    {
        const string Fix = "re-encode the file as UTF-8 (a CSV cannot be resynchronised after bad bytes, so --skip-invalid cannot skip it)";
        if (!seekable)
            return new InvalidDataException($"{_path}: invalid UTF-8 near line {readerLine}; {Fix}");
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var lines = new LineSplitter(stream, int.MaxValue / 2);
        long line = 0;
        while (lines.Next())
        {
            line++;
            if (!Utf8.IsValid(lines.Buffer.AsSpan(0, lines.Length))) break;
        }
        return new InvalidDataException($"{_path}:{line}: line is not valid UTF-8; {Fix}");
    }

    /// <summary>Parses the fields of one record as a preference record of the file's format (the first record's, or <see cref="ReaderOptions.Format"/>).</summary>
    internal PreferenceRecord Accept(List<KeyValuePair<string, JsonElement>> fields, long line, HashSet<string> ids, List<string> warnings)
    {
        var format = Report.Format == RecordFormat.Auto ? RecordParser.Detect(fields) : Report.Format;
        warnings.Clear();
        var record = RecordParser.Parse(format, fields, line, warnings, out var implicitPrompt);
        Report.Format = format;
        Report.RecordsRead++;
        if (implicitPrompt) Report.ImplicitPromptPairs++;
        foreach (var w in warnings) Report.Warn(new DataIssue(_path, line, FieldOf(w), w));
        if (record.Id is { } id && !ids.Add(id))
        {
            Report.DuplicateIds++;
            Report.Warn(new DataIssue(_path, line, "id", $"field 'id' \"{id}\" was already used by an earlier record (accepted; make ids unique)"));
        }
        return record;
    }

    static string? FieldOf(string message)
    {
        var a = message.IndexOf('\'');
        var b = a < 0 ? -1 : message.IndexOf('\'', a + 1);
        return b > a ? message[(a + 1)..b] : null;
    }

    void Fail(long line, string? field, string message)
    {
        if (!_options.SkipInvalid)
            throw new InvalidDataException($"{_path}:{line}: {message}; fix the record or pass --skip-invalid");
        Report.Skip(new DataIssue(_path, line, field, message));
    }

    static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }

    /// <summary>Parses one JSONL line into its top-level fields, in order; throws <see cref="RecordException"/> with the reason.</summary>
    internal static List<KeyValuePair<string, JsonElement>> ParseJsonLine(ReadOnlySpan<byte> line)
    {
        if (!Utf8.IsValid(line))
        {
            var status = Utf8.ToUtf16(line, new char[line.Length], out var bytesRead, out _, replaceInvalidSequences: false);
            throw new RecordException(null, $"line is not valid UTF-8 (bad byte 0x{line[bytesRead]:X2} at byte {bytesRead + 1} of the line, {status}); re-encode the file as UTF-8");
        }
        // Lone surrogate escapes are rare: one scan of the line decides whether names and strings need checking at all.
        var loneSurrogate = JsonTextChecks.FindLoneSurrogate(line) >= 0;
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64, AllowMultipleValues = true });
        var fields = new List<KeyValuePair<string, JsonElement>>();
        try
        {
            if (!reader.Read()) throw new RecordException(null, "line holds no JSON");
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new RecordException(null, $"line is a JSON {reader.TokenType}, expected one object per line {{\"prompt\": ..., ...}}");
            while (true)
            {
                if (!reader.Read()) throw new RecordException(null, "line ends inside the JSON object (truncated?); every record must be one complete object on one line");
                if (reader.TokenType == JsonTokenType.EndObject) break;
                if (loneSurrogate && reader.ValueIsEscaped && JsonTextChecks.FindLoneSurrogate(reader.ValueSpan) is >= 0 and var at)
                {
                    var raw = Encoding.UTF8.GetString(reader.ValueSpan);
                    throw new RecordException(raw, $"the field name \"{raw}\" holds the lone surrogate escape {JsonTextChecks.EscapeAt(reader.ValueSpan, at)} (half of a UTF-16 pair, not a character); re-export the data as valid Unicode");
                }
                var name = reader.GetString()!;
                if (!reader.Read()) throw new RecordException(name, $"line ends after field name '{name}' (truncated?)");
                fields.Add(new(name, JsonElement.ParseValue(ref reader)));
            }
            if (reader.Read())
                throw new RecordException(null, "line has more JSON after the record's closing '}'; put one record per line");
            if (loneSurrogate)
                foreach (var (name, value) in fields) JsonTextChecks.Check(name, value, checkText: true);
        }
        catch (JsonException e)
        {
            var why = reader.BytesConsumed >= line.Length || e.Message.Contains("end of data", StringComparison.OrdinalIgnoreCase) ? " (truncated line?)" : "";
            throw new RecordException(null, $"line is not valid JSON{why} at byte {e.BytePositionInLine + 1}: {FirstSentence(e.Message)}");
        }
        return fields;
    }

    static string FirstSentence(string message)
    {
        var i = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (i > 0 ? message[..i] : message).TrimEnd('.', ' ');
    }
}
