using System.Text.Json;

namespace RewardKit.Text;

/// <summary>
/// Reads the texts of a corpus: JSONL records (the string values of chosen fields; a field holding an array of
/// strings, like OpenAssistant's <c>responses</c>, gives each element) or, for any other file, one text per line.
/// Errors name the file, line and field.
/// </summary>
public static class TextCorpus
{
    /// <summary>True when <paramref name="path"/> ends with <c>.jsonl</c> or <c>.json</c>.</summary>
    public static bool IsJsonLines(string path) =>
        path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The texts of <paramref name="path"/>: for JSONL the values of <paramref name="fields"/> in every record (a
    /// record that lacks one is an error), for other files each non-empty line.
    /// </summary>
    public static IEnumerable<string> Read(string path, IReadOnlyList<string> fields)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"corpus file '{path}' does not exist.", path);
        return IsJsonLines(path) ? ReadJsonLines(path, fields) : ReadPlainLines(path);
    }

    static IEnumerable<string> ReadPlainLines(string path)
    {
        foreach (var line in File.ReadLines(path))
            if (line.Length > 0) yield return line;
    }

    /// <summary>The values of <paramref name="fields"/> in each JSONL record of <paramref name="path"/>.</summary>
    public static IEnumerable<string> ReadJsonLines(string path, IReadOnlyList<string> fields)
    {
        if (fields.Count == 0) throw new ArgumentException("name at least one field to read (for example text, or prompt, chosen and rejected).", nameof(fields));
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            foreach (var text in FieldsOf(line, path, lineNumber, fields)) yield return text;
        }
    }

    /// <summary>
    /// The string value of <paramref name="field"/> in one JSON record: exactly one text (an array is an error here), for
    /// readers that give one output per record. Errors name file:line and field.
    /// </summary>
    public static string TextOf(string json, string path, int lineNumber, string field)
    {
        using var doc = ParseRecord(json, path, lineNumber);
        if (!doc.RootElement.TryGetProperty(field, out var value))
            throw new InvalidDataException($"{path}:{lineNumber}: field \"{field}\" is missing; name the field that holds the text with --field (this record has: {string.Join(", ", doc.RootElement.EnumerateObject().Select(p => p.Name))}).");
        if (value.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{path}:{lineNumber}: field \"{field}\" is {value.ValueKind} ({Shorten(value.GetRawText())}), not a string; fix the record.");
        return GetText(value);
    }

    static JsonDocument ParseRecord(string json, string path, int lineNumber)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{lineNumber}: not valid JSON ({e.Message}); each line must be one JSON object.", e);
        }
        if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
        var kind = doc.RootElement.ValueKind;
        doc.Dispose();
        throw new InvalidDataException($"{path}:{lineNumber}: expected a JSON object, found {kind}.");
    }

    /// <summary>The string values of <paramref name="fields"/> in one JSON record, with errors naming file:line and field.</summary>
    public static List<string> FieldsOf(string json, string path, int lineNumber, IReadOnlyList<string> fields)
    {
        using (var doc = ParseRecord(json, path, lineNumber))
        {
            var result = new List<string>(fields.Count);
            foreach (var field in fields)
            {
                if (!doc.RootElement.TryGetProperty(field, out var value))
                    throw new InvalidDataException($"{path}:{lineNumber}: field \"{field}\" is missing; name the fields that hold text with --field (this record has: {string.Join(", ", doc.RootElement.EnumerateObject().Select(p => p.Name))}).");
                if (value.ValueKind == JsonValueKind.String) result.Add(GetText(value));
                else if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
                    result.AddRange(value.EnumerateArray().Select(GetText));
                else
                    throw new InvalidDataException($"{path}:{lineNumber}: field \"{field}\" is {value.ValueKind} ({Shorten(value.GetRawText())}), not a string; fix the record or leave the field out.");
            }
            return result;
        }
    }

    /// <summary>
    /// The value of a JSON string, also when it escapes a lone surrogate (<c>"\ud800"</c>), which System.Text.Json
    /// refuses: the lone surrogate is kept and later encodes as U+FFFD, as JavaScript's TextEncoder does.
    /// </summary>
    public static string GetText(JsonElement value)
    {
        try { return value.GetString()!; }
        catch (InvalidOperationException) { return UnescapeLenient(value.GetRawText()); }
    }

    static string UnescapeLenient(string raw)
    {
        var sb = new System.Text.StringBuilder(raw.Length);
        for (int i = 1; i < raw.Length - 1; i++)
        {
            char c = raw[i];
            if (c != '\\') { sb.Append(c); continue; }
            char e = raw[++i];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'u':
                    sb.Append((char)Convert.ToUInt16(raw.Substring(i + 1, 4), 16));
                    i += 4;
                    break;
                default: sb.Append(e); break; // \" \\ \/
            }
        }
        return sb.ToString();
    }

    static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
