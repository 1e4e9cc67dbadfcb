using System.Collections;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Serialization;

namespace RewardKit.Data;

public sealed partial class PreferenceReader
{
    /// <summary>
    /// Reads a Parquet file one row group at a time. Each row becomes the cells of a CSV row and goes through the same
    /// parser (<see cref="CsvRows.ToFields"/>, then <see cref="Accept"/>), so Parquet, CSV and JSONL records mean the
    /// same. Hugging Face layouts read as they are: list columns (<c>responses</c>, <c>ranks</c>) and chat-message
    /// lists under <c>prompt</c>/<c>chosen</c>/<c>rejected</c>/<c>response</c> become JSON; other columns RewardKit has no
    /// field for are kept as extras with their types. Errors name FILE:ROW (1-based over the whole file).
    /// </summary>
    IEnumerable<PreferenceRecord> ReadParquet(CancellationToken ct)
    {
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var groups = ParquetRowGroupCount(stream, ct);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var warnings = new List<string>();
        long row = 0;
        for (var g = 0; g < groups; g++)
        {
            foreach (var values in ParquetRowGroup(stream, g, ct))
            {
                ct.ThrowIfCancellationRequested();
                row++;
                PreferenceRecord record;
                try
                {
                    var (header, cells) = ParquetCells(values);
                    record = Accept(CsvRows.ToFields(header, cells), row, ids, warnings);
                }
                catch (RecordException e)
                {
                    Fail(row, e.Field, e.Message);
                    continue;
                }
                yield return record;
            }
            BytesRead = stream.Length * (g + 1) / groups;
        }
        if (_options.ComputeSha256)
        {
            stream.Position = 0;
            Report.Sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
    }

    int ParquetRowGroupCount(Stream stream, CancellationToken ct)
    {
        try
        {
            var reader = ParquetReader.CreateAsync(stream, null, leaveStreamOpen: true, ct).GetAwaiter().GetResult();
            var count = reader.RowGroupCount;
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return count;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidDataException($"{_path}: not a readable Parquet file ({e.Message}); check the file, or give it a .jsonl or .csv name if it is text");
        }
    }

    IList<Dictionary<string, object>> ParquetRowGroup(Stream stream, int group, CancellationToken ct)
    {
        try
        {
            stream.Position = 0;
            return ParquetSerializer.DeserializeUntypedAsync(stream, null, group, ct).GetAwaiter().GetResult().Data;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidDataException($"{_path}: row group {group + 1} cannot be read ({e.Message}); the file is damaged: write it again");
        }
    }

    /// <summary>One Parquet row as CSV header and cells, plus an <c>extra</c> cell for typed columns RewardKit has no field for.</summary>
    static (string[] Header, string?[] Cells) ParquetCells(Dictionary<string, object> values)
    {
        var header = new List<string>(values.Count + 1);
        var cells = new List<string?>(values.Count + 1);
        var extra = new JsonObject();
        string? extraText = null;
        foreach (var (name, value) in values)
        {
            if (name == "extra" && value is string text) { extraText = text; continue; }
            var node = ToJson(value);
            if (value is string s) { header.Add(name); cells.Add(s); }
            else if (CsvRows.MessageTextColumns.Contains(name) && node is JsonArray) { header.Add(name + "_messages"); cells.Add(node.ToJsonString()); }
            else if (CsvRows.KnownColumns.Contains(name) && node is not null)
            {
                header.Add(name);
                cells.Add(node is JsonValue v && v.TryGetValue<double>(out var d) ? CsvRows.Number(d) : node.ToJsonString());
            }
            else if (node is not null) extra[name] = node;
        }
        if (extra.Count > 0)
        {
            var merged = extraText is null ? new JsonObject() : JsonNode.Parse(extraText) as JsonObject
                ?? throw new RecordException("extra", "column 'extra' must hold a JSON object of extra fields");
            foreach (var (k, v) in extra) merged[k] = v?.DeepClone();
            extraText = merged.ToJsonString();
        }
        if (extraText is not null) { header.Add("extra"); cells.Add(extraText); }
        return ([.. header], [.. cells]);
    }

    /// <summary>A value as Parquet.Net's untyped reader gives it (scalars, lists, structs as dictionaries) as JSON.</summary>
    static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        ReadOnlyMemory<char> m => JsonValue.Create(m.ToString()),
        bool b => JsonValue.Create(b),
        double d => double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(CultureInfo.InvariantCulture)),
        float f => ToJson((double)f),
        decimal m => JsonValue.Create(m),
        sbyte or byte or short or ushort or int or uint or long => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        ulong u => JsonValue.Create(u),
        DateTime t => JsonValue.Create(t.ToString("O", CultureInfo.InvariantCulture)),
        DateTimeOffset t => JsonValue.Create(t.ToString("O", CultureInfo.InvariantCulture)),
        byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
        IDictionary<string, object> map => new JsonObject(map.Select(p => KeyValuePair.Create(p.Key, ToJson(p.Value)))),
        IEnumerable list => new JsonArray([.. list.Cast<object?>().Select(ToJson)]),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };
}
