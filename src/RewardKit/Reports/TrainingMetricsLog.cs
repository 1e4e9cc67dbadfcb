using System.Text.Json;

namespace RewardKit.Reports;

/// <summary>One row of a trainer's metrics.jsonl: its step and every numeric field (TRL names; eval rows use <c>eval_</c> names).</summary>
public sealed record TrainingMetricsRow(double Step, IReadOnlyDictionary<string, double> Values);

/// <summary>Reads the trainer's <c>metrics.jsonl</c> (one JSON object per line, each with a numeric <c>step</c>).</summary>
public static class TrainingMetricsLog
{
    /// <summary>
    /// Every row in file order. Blank lines are skipped; non-numeric fields (strings, nulls) are ignored. A line that is
    /// not a JSON object or lacks a numeric <c>step</c> throws <see cref="InvalidDataException"/> naming the file and line.
    /// </summary>
    public static IReadOnlyList<TrainingMetricsRow> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"metrics log '{path}' does not exist; pass the metrics.jsonl the trainer wrote.", path);
        var rows = new List<TrainingMetricsRow>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNumber}: not valid JSON ({e.Message}); each line must be one JSON object.", e); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{path}:{lineNumber}: expected a JSON object, found {doc.RootElement.ValueKind}.");
                var values = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var p in doc.RootElement.EnumerateObject())
                    if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetDouble(out var v)) values[p.Name] = v;
                if (!values.TryGetValue("step", out var step))
                    throw new InvalidDataException($"{path}:{lineNumber}: field 'step' is missing or not a number; every metrics row needs its optimiser step.");
                rows.Add(new TrainingMetricsRow(step, values));
            }
        }
        return rows;
    }

    /// <summary>(step, value) for every row that has a finite <paramref name="key"/>, in file order.</summary>
    public static IReadOnlyList<ChartPoint> Series(IReadOnlyList<TrainingMetricsRow> rows, string key) =>
        rows.Where(r => r.Values.TryGetValue(key, out var v) && double.IsFinite(v)).Select(r => new ChartPoint(r.Step, r.Values[key])).ToList();
}
