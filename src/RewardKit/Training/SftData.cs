using System.Text.Json;
using RewardKit.Data;

namespace RewardKit.Training;

/// <summary>One SFT example: the prompt and the response the policy should learn to write after it.</summary>
/// <param name="Prompt">The prompt as stored (a conversation flattened as the data reader flattens it).</param>
/// <param name="Response">The response (for a pair, its chosen response; for a ranking, its best-ranked one).</param>
/// <param name="Line">1-based line of the record in its file.</param>
public sealed record SftExample(string Prompt, string Response, long Line);

/// <summary>
/// Reads the examples of an SFT data file: JSON Lines of prompt/response records (<c>{"prompt": ..., "response": ...}</c>,
/// as <c>generate</c> and <c>judge</c> write them), or a preference file (pairs: the chosen response; rankings: the
/// best-ranked response; JSONL or CSV). A record without a response (a prompt-only line) or a ratings record (no response is
/// marked as the one to imitate) stops the read with FILE:LINE, or with <see cref="ReaderOptions.SkipInvalid"/> is skipped
/// and listed in the report; nothing is dropped silently.
/// </summary>
public static class SftData
{
    /// <summary>Fields that mark a record of a preference file rather than a prompt/response record.</summary>
    static readonly string[] PreferenceFields = ["chosen", "rejected", "responses", "ranks", "rating"];

    /// <summary>The examples of <paramref name="path"/> with the reader's report (records, skipped with FILE:LINE, sha256).</summary>
    public static (List<SftExample> Examples, ReadReport Report) Read(string path, ReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options = (options ?? ReaderOptions.Default) with { ComputeSha256 = true };
        options.Validate();
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found; check the path", path);
        var reader = new PreferenceReader(path, options);
        var examples = IsPromptResponse(path, options)
            ? reader.ReadJsonlObjects((fields, line) => ParseExample(fields, line), cancellationToken).ToList()
            : FromPreferences(path, reader, options, cancellationToken);
        return (examples, reader.Report);
    }

    /// <summary>True for JSONL whose first record has none of the preference fields.</summary>
    static bool IsPromptResponse(string path, ReaderOptions options)
    {
        if (PreferenceReader.ContainerOf(path, options.Container) == FileContainer.Csv || options.Format != RecordFormat.Auto) return false;
        using var stream = File.OpenRead(path);
        var lines = new LineSplitter(stream, options.MaxRecordBytes);
        while (lines.Next())
        {
            if (lines.TooLong || lines.Buffer.AsSpan(0, lines.Length).Trim(" \t\r"u8).IsEmpty) continue;
            try { return !PreferenceReader.ParseJsonLine(lines.Buffer.AsSpan(0, lines.Length)).Any(f => PreferenceFields.Contains(f.Key)); }
            catch (RecordException) { return true; }   // the record reader reports the broken line
        }
        return true;
    }

    static List<SftExample> FromPreferences(string path, PreferenceReader reader, ReaderOptions options, CancellationToken ct)
    {
        var examples = new List<SftExample>();
        foreach (var record in reader.ReadRecords(ct))
            switch (record)
            {
                case PreferencePair p: examples.Add(new SftExample(p.Prompt, p.Chosen, p.LineNumber)); break;
                case RankedGroup g:
                    int best = Enumerable.Range(0, g.Ranks.Count).MinBy(i => g.Ranks[i]);
                    examples.Add(new SftExample(g.Prompt, g.Responses[best], g.LineNumber));
                    break;
                case RatedResponse r:
                    const string message = "a ratings record marks no response to imitate; give prompt/response records or pairs (the chosen response is learned)";
                    if (!options.SkipInvalid) throw new InvalidDataException($"{path}:{r.LineNumber}: {message}.");
                    reader.Report.Skip(new DataIssue(path, r.LineNumber, "rating", message));
                    break;
            }
        return examples;
    }

    static SftExample ParseExample(List<KeyValuePair<string, JsonElement>> fields, long line)
    {
        string? prompt = null, response = null;
        foreach (var (name, value) in fields)
        {
            if (name is not ("prompt" or "response")) continue;
            if ((name == "prompt" ? prompt : response) is not null) throw new RecordException(name, $"field '{name}' appears twice; keep one");
            var text = value.ValueKind == JsonValueKind.String ? value.GetString()!
                : throw new RecordException(name, $"field '{name}' is {RecordParser.Describe(value)}, expected text");
            if (name == "prompt") prompt = text; else response = text;
        }
        if (prompt is null) throw new RecordException("prompt", "record has no 'prompt' field; write {\"prompt\": \"...\", \"response\": \"...\"} per line, or pass a pairs file");
        if (response is null)
            throw new RecordException("response", "record has no 'response' field: a prompt-only line has nothing to learn from; add the response to imitate ({\"prompt\": \"...\", \"response\": \"...\"}), or pass a pairs file (its chosen responses are learned)");
        return new SftExample(prompt, response, line);
    }
}
