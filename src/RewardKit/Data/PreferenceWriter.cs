using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using CsvHelper;

namespace RewardKit.Data;

/// <summary>
/// Writes preference records as JSONL or CSV, every field kept (what <see cref="PreferenceReader"/> reads back is the
/// same record). One writer holds one format: the first record fixes it (a CSV has one header). Output is UTF-8
/// without BOM, <c>\n</c> line ends, numbers in shortest round-trip invariant form, so equal input gives equal bytes.
/// </summary>
public abstract class PreferenceWriter : IDisposable
{
    /// <summary>The format of the records written so far (set by the first record).</summary>
    public RecordFormat Format { get; private set; } = RecordFormat.Auto;

    /// <summary>Records written.</summary>
    public long Count { get; private set; }

    /// <summary>A writer for <paramref name="path"/>; CSV for a <c>.csv</c> extension unless <paramref name="container"/> says otherwise.</summary>
    public static PreferenceWriter Create(string path, FileContainer container = FileContainer.Auto)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        return PreferenceReader.ContainerOf(path, container) == FileContainer.Csv ? new CsvPreferenceWriter(stream) : new JsonlPreferenceWriter(stream);
    }

    /// <summary>Writes every record of <paramref name="records"/> to <paramref name="path"/> and returns how many.</summary>
    public static long WriteAll(string path, IEnumerable<PreferenceRecord> records, FileContainer container = FileContainer.Auto, CancellationToken cancellationToken = default)
    {
        using var writer = Create(path, container);
        foreach (var r in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            writer.Write(r);
        }
        return writer.Count;
    }

    /// <summary>Writes one record.</summary>
    public void Write(PreferenceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var format = record switch
        {
            PreferencePair => RecordFormat.Pairs,
            RankedGroup => RecordFormat.Rankings,
            RatedResponse => RecordFormat.Ratings,
            _ => throw new ArgumentException($"unknown record type {record.GetType().Name}", nameof(record)),
        };
        if (Format == RecordFormat.Auto) Format = format;
        else if (Format != format)
            throw new ArgumentException($"this writer holds {Format} records; write {format} records to another file", nameof(record));
        WriteRecord(record);
        Count++;
    }

    /// <summary>Writes one record of the writer's format.</summary>
    protected abstract void WriteRecord(PreferenceRecord record);

    /// <summary>Flushes and closes the file.</summary>
    public abstract void Dispose();

    /// <summary>The JSON options of every writer: non-ASCII kept readable, no indentation.</summary>
    internal static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false, SkipValidation = false };

    internal static void WriteMessages(Utf8JsonWriter w, IReadOnlyList<ChatMessage> messages)
    {
        w.WriteStartArray();
        foreach (var m in messages)
        {
            w.WriteStartObject();
            w.WriteString("role", m.Role);
            w.WriteString("content", m.Content);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    internal static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, JsonOptions)) write(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>JSON Lines writer: one object per line, fields in a fixed order then the extras in their original order.</summary>
public sealed class JsonlPreferenceWriter : PreferenceWriter
{
    readonly Stream _stream;
    readonly Utf8JsonWriter _json;

    /// <summary>A writer onto <paramref name="stream"/> (disposed with the writer).</summary>
    public JsonlPreferenceWriter(Stream stream)
    {
        _stream = stream;
        _json = new Utf8JsonWriter(stream, JsonOptions);
    }

    /// <inheritdoc />
    protected override void WriteRecord(PreferenceRecord record)
    {
        var w = _json;
        w.Reset(_stream);
        w.WriteStartObject();
        if (record.Id is { } id) w.WriteString("id", id);
        if (record.Source is { } source) w.WriteString("source", source);
        if (record.Category is { } category) w.WriteString("category", category);
        w.WritePropertyName("prompt");
        if (record.PromptMessages is { } pm) WriteMessages(w, pm); else w.WriteStringValue(record.Prompt);
        switch (record)
        {
            case PreferencePair p:
                w.WritePropertyName("chosen");
                if (p.ChosenMessages is { } cm) WriteMessages(w, cm); else w.WriteStringValue(p.Chosen);
                w.WritePropertyName("rejected");
                if (p.RejectedMessages is { } rm) WriteMessages(w, rm); else w.WriteStringValue(p.Rejected);
                if (p.Margin is { } margin) w.WriteNumber("margin", margin);
                if (p.Weight is { } weight) w.WriteNumber("weight", weight);
                if (p.Annotator is { } annotator) w.WriteString("annotator", annotator);
                if (p.Labels.Count > 0)
                {
                    w.WriteStartObject("labels");
                    foreach (var (k, v) in p.Labels) w.WriteNumber(k, v);
                    w.WriteEndObject();
                }
                if (p.GoldChosen is { } gc) w.WriteNumber("gold_reward_chosen", gc);
                if (p.GoldRejected is { } gr) w.WriteNumber("gold_reward_rejected", gr);
                if (p.PTrue is { } pt) w.WriteNumber("p_true", pt);
                break;
            case RankedGroup g:
                w.WriteStartArray("responses");
                foreach (var r in g.Responses) w.WriteStringValue(r);
                w.WriteEndArray();
                w.WriteStartArray("ranks");
                foreach (var r in g.Ranks) w.WriteNumberValue(r);
                w.WriteEndArray();
                if (g.GoldRewards is { } gold)
                {
                    w.WriteStartArray("gold_rewards");
                    foreach (var r in gold) w.WriteNumberValue(r);
                    w.WriteEndArray();
                }
                break;
            case RatedResponse r:
                w.WriteString("response", r.Response);
                w.WriteNumber("rating", r.Rating);
                if (r.GoldReward is { } g1) w.WriteNumber("gold_reward", g1);
                if (r.Annotator is { } a) w.WriteString("annotator", a);
                break;
        }
        foreach (var (k, v) in record.Extra)
        {
            w.WritePropertyName(k);
            v.WriteTo(w);
        }
        w.WriteEndObject();
        w.Flush();
        _stream.WriteByte((byte)'\n');
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _json.Dispose();
        _stream.Dispose();
    }
}

/// <summary>CSV writer: a header of <see cref="CsvRows"/> columns for the format, one row per record.</summary>
public sealed class CsvPreferenceWriter : PreferenceWriter
{
    readonly CsvWriter _csv;
    bool _headerWritten;

    /// <summary>A writer onto <paramref name="stream"/> (disposed with the writer).</summary>
    public CsvPreferenceWriter(Stream stream)
    {
        _csv = CsvWriter.Create(stream, new CsvWriterOptions { NewLine = "\n", Quoting = CsvQuoting.WhenNeededOrWhitespace, Injection = CsvInjection.None, FormatProvider = CultureInfo.InvariantCulture }, false);
    }

    /// <inheritdoc />
    protected override void WriteRecord(PreferenceRecord record)
    {
        var columns = record switch
        {
            PreferencePair => CsvRows.PairColumns,
            RankedGroup => CsvRows.RankingColumns,
            _ => CsvRows.RatingColumns,
        };
        if (!_headerWritten)
        {
            foreach (var c in columns) _csv.WriteField(c);
            _csv.EndRecord();
            _headerWritten = true;
        }
        foreach (var c in columns) _csv.WriteField(Cell(record, c) ?? "");
        _csv.EndRecord();
    }

    static string? Num(double? v) => v is { } d ? CsvRows.Number(d) : null;

    /// <summary>
    /// Text fields that are present but empty (<c>"category": ""</c>): an empty cell means "absent" in a CSV, so they go
    /// into the <c>extra</c> object instead of their column, and read back as the empty string.
    /// </summary>
    static IEnumerable<(string Name, string Value)> EmptyTexts(PreferenceRecord record)
    {
        if (record.Id == "") yield return ("id", "");
        if (record.Source == "") yield return ("source", "");
        if (record.Category == "") yield return ("category", "");
        if (record.Prompt == "" && record.PromptMessages is null) yield return ("prompt", "");
        if (record is PreferencePair { Annotator: "" } or RatedResponse { Annotator: "" }) yield return ("annotator", "");
    }

    static string? Cell(PreferenceRecord record, string column)
    {
        switch (column)
        {
            case "id": return NullIfEmpty(record.Id);
            case "source": return NullIfEmpty(record.Source);
            case "category": return NullIfEmpty(record.Category);
            case "prompt": return record.Prompt;
            case "prompt_messages": return record.PromptMessages is { } pm ? Json(w => WriteMessages(w, pm)) : null;
            case "extra":
                var empty = EmptyTexts(record).ToList();
                return record.Extra.Count == 0 && empty.Count == 0 ? null : Json(w =>
                {
                    w.WriteStartObject();
                    foreach (var (k, v) in empty) w.WriteString(k, v);
                    foreach (var (k, v) in record.Extra) { w.WritePropertyName(k); v.WriteTo(w); }
                    w.WriteEndObject();
                });
        }
        return record switch
        {
            PreferencePair p => column switch
            {
                "chosen" => p.Chosen,
                "rejected" => p.Rejected,
                "margin" => Num(p.Margin),
                "weight" => Num(p.Weight),
                "annotator" => NullIfEmpty(p.Annotator),
                "gold_reward_chosen" => Num(p.GoldChosen),
                "gold_reward_rejected" => Num(p.GoldRejected),
                "p_true" => Num(p.PTrue),
                "labels" => p.Labels.Count == 0 ? null : Json(w =>
                {
                    w.WriteStartObject();
                    foreach (var (k, v) in p.Labels) w.WriteNumber(k, v);
                    w.WriteEndObject();
                }),
                "chosen_messages" => p.ChosenMessages is { } cm ? Json(w => WriteMessages(w, cm)) : null,
                "rejected_messages" => p.RejectedMessages is { } rm ? Json(w => WriteMessages(w, rm)) : null,
                _ => null,
            },
            RankedGroup g => column switch
            {
                "responses" => Json(w => { w.WriteStartArray(); foreach (var r in g.Responses) w.WriteStringValue(r); w.WriteEndArray(); }),
                "ranks" => Json(w => { w.WriteStartArray(); foreach (var r in g.Ranks) w.WriteNumberValue(r); w.WriteEndArray(); }),
                "gold_rewards" => g.GoldRewards is { } gold ? Json(w => { w.WriteStartArray(); foreach (var r in gold) w.WriteNumberValue(r); w.WriteEndArray(); }) : null,
                _ => null,
            },
            RatedResponse r => column switch
            {
                "response" => r.Response,
                "rating" => Num(r.Rating),
                "gold_reward" => Num(r.GoldReward),
                "annotator" => NullIfEmpty(r.Annotator),
                _ => null,
            },
            _ => null,
        };
    }

    static string? NullIfEmpty(string? text) => text == "" ? null : text;

    /// <inheritdoc />
    public override void Dispose()
    {
        _csv.Dispose();
    }
}
