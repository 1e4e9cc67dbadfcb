using System.Text.Json;
using RewardKit.Data;

namespace RewardKit.Generation;

/// <summary>One prompt to generate for, with where it came from.</summary>
/// <param name="Prompt">The prompt text (a conversation flattened as the data reader flattens it).</param>
/// <param name="Id">The record's <c>id</c>, or null.</param>
/// <param name="Line">1-based line in the source file.</param>
public sealed record PromptRecord(string Prompt, string? Id, long Line);

/// <summary>
/// Reads the prompts of a prompts file: JSON Lines with a <c>prompt</c> field (and an optional <c>id</c>), or any file
/// <see cref="PreferenceReader"/> reads (pairs, rankings, ratings; JSONL or CSV), whose prompts are taken once each, in
/// order of first appearance. Bad records stop the read with FILE:LINE and the fix, or with
/// <see cref="ReaderOptions.SkipInvalid"/> are skipped and listed in the report; nothing is dropped silently.
/// </summary>
public static class PromptFile
{
    /// <summary>Fields that mark a record of a preference file rather than a bare prompt.</summary>
    static readonly string[] PreferenceFields = ["chosen", "rejected", "responses", "ranks", "response", "rating"];

    /// <summary>The prompts of <paramref name="path"/> and what the read found (records, skipped, warnings, duplicates merged).</summary>
    public static (List<PromptRecord> Prompts, PromptReadReport Report) Read(string path, ReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= ReaderOptions.Default;
        options.Validate();
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found; check the path", path);
        return IsPromptOnly(path, options)
            ? ReadPromptLines(path, options, cancellationToken)
            : ReadPreferenceFile(path, options, cancellationToken);
    }

    /// <summary>True for JSONL whose first record has none of the preference fields.</summary>
    static bool IsPromptOnly(string path, ReaderOptions options)
    {
        if (PreferenceReader.ContainerOf(path, options.Container) == FileContainer.Csv || options.Format != RecordFormat.Auto) return false;
        using var stream = File.OpenRead(path);
        var lines = new LineSplitter(stream, options.MaxRecordBytes);
        while (lines.Next())
        {
            if (lines.TooLong || lines.Buffer.AsSpan(0, lines.Length).Trim(" \t\r"u8).IsEmpty) continue;
            try { return !PreferenceReader.ParseJsonLine(lines.Buffer.AsSpan(0, lines.Length)).Any(f => PreferenceFields.Contains(f.Key)); }
            catch (RecordException) { return true; }   // the prompt reader reports the broken line
        }
        return true;
    }

    static (List<PromptRecord>, PromptReadReport) ReadPreferenceFile(string path, ReaderOptions options, CancellationToken ct)
    {
        var reader = new PreferenceReader(path, options);
        var prompts = new List<PromptRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long duplicates = 0;
        foreach (var record in reader.ReadRecords(ct))
            if (seen.Add(record.Prompt)) prompts.Add(new PromptRecord(record.Prompt, record.Id, record.LineNumber));
            else duplicates++;
        return (prompts, new PromptReadReport(reader.Report, duplicates));
    }

    static (List<PromptRecord>, PromptReadReport) ReadPromptLines(string path, ReaderOptions options, CancellationToken ct)
    {
        var report = new ReadReport(path, options.MaxIssuesKept) { Container = FileContainer.Jsonl };
        var prompts = new List<PromptRecord>();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var lines = new LineSplitter(stream, options.MaxRecordBytes);
        long line = 0;
        while (lines.Next())
        {
            ct.ThrowIfCancellationRequested();
            line++;
            if (line == 1) report.HadByteOrderMark = lines.HadBom;
            if (lines.Crlf) report.CrlfLines++;
            if (!lines.TooLong && lines.Buffer.AsSpan(0, lines.Length).Trim(" \t\r"u8).IsEmpty) { report.BlankLines++; continue; }
            try
            {
                if (lines.TooLong)
                    throw new RecordException(null, $"record is longer than {options.MaxRecordBytes} bytes (ReaderOptions.MaxRecordBytes); raise the limit or shorten the record");
                var record = ParsePrompt(PreferenceReader.ParseJsonLine(lines.Buffer.AsSpan(0, lines.Length)), line);
                if (record.Prompt.Trim().Length == 0)
                    report.Warn(new DataIssue(path, line, "prompt", "field 'prompt' is empty (accepted: the model continues the template alone)"));
                report.RecordsRead++;
                prompts.Add(record);
            }
            catch (RecordException e)
            {
                if (!options.SkipInvalid) throw new InvalidDataException($"{path}:{line}: {e.Message}; fix the record or pass --skip-invalid");
                report.Skip(new DataIssue(path, line, e.Field, e.Message));
            }
        }
        return (prompts, new PromptReadReport(report, 0));
    }

    static PromptRecord ParsePrompt(List<KeyValuePair<string, JsonElement>> fields, long line)
    {
        string? prompt = null, id = null;
        foreach (var (name, value) in fields)
        {
            if (name == "prompt")
            {
                if (prompt is not null) throw new RecordException("prompt", "field 'prompt' appears twice; keep one");
                prompt = value.ValueKind == JsonValueKind.String ? value.GetString()!
                    : throw new RecordException("prompt", $"field 'prompt' is {RecordParser.Describe(value)}, expected text (a conversation prompt belongs in a pairs file, which the reader flattens)");
            }
            else if (name == "id")
                id = value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Number => value.GetRawText(),
                    JsonValueKind.Null => null,
                    _ => throw new RecordException("id", $"field 'id' is {RecordParser.Describe(value)}, expected text or a number"),
                };
        }
        return new PromptRecord(prompt ?? throw new RecordException("prompt", "record has no 'prompt' field; write {\"prompt\": \"...\"} per line, or pass a pairs file"), id, line);
    }
}

/// <summary>What <see cref="PromptFile.Read"/> found.</summary>
/// <param name="Records">The reader's report: records read, skipped with FILE:LINE and reason, warnings.</param>
/// <param name="DuplicatePrompts">Records of a preference file whose prompt an earlier record already gave (one generation per prompt).</param>
public sealed record PromptReadReport(ReadReport Records, long DuplicatePrompts)
{
    /// <summary>A one-line summary.</summary>
    public string Summary() => Records.Summary() + (DuplicatePrompts > 0 ? $", {DuplicatePrompts} repeated prompts merged" : "");
}
