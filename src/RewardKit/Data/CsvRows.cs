using System.Globalization;
using System.Text.Json;

namespace RewardKit.Data;

/// <summary>
/// The CSV layout of every format, shared by reader and writer. Text columns hold text; number columns hold invariant
/// numbers; <c>responses</c>, <c>ranks</c>, <c>gold_rewards</c>, <c>labels</c>, <c>*_messages</c> and <c>extra</c> hold JSON
/// (<c>extra</c> is an object of the fields RewardKit has no column for). An empty optional cell means "absent"; an
/// empty <c>chosen</c>/<c>rejected</c>/<c>response</c> cell is the empty response. Unknown columns are kept as text extras.
/// </summary>
public static class CsvRows
{
    /// <summary>Columns of a pairs CSV, in order.</summary>
    public static readonly string[] PairColumns = ["id", "source", "category", "prompt", "chosen", "rejected", "margin", "weight", "annotator",
        "gold_reward_chosen", "gold_reward_rejected", "p_true", "labels", "prompt_messages", "chosen_messages", "rejected_messages", "extra"];

    /// <summary>Columns of a rankings CSV, in order.</summary>
    public static readonly string[] RankingColumns = ["id", "source", "category", "prompt", "responses", "ranks", "gold_rewards", "prompt_messages", "extra"];

    /// <summary>Columns of a ratings CSV, in order.</summary>
    public static readonly string[] RatingColumns = ["id", "source", "category", "prompt", "response", "rating", "gold_reward", "annotator", "prompt_messages", "extra"];

    static readonly HashSet<string> NumberColumns = ["margin", "weight", "gold_reward_chosen", "gold_reward_rejected", "p_true", "rating", "gold_reward",
        "helpfulness", "harmlessness", "honesty"];
    static readonly HashSet<string> JsonColumns = ["responses", "ranks", "gold_rewards", "labels"];
    static readonly HashSet<string> ResponseColumns = ["chosen", "rejected", "response"];

    /// <summary>Converts one CSV row to the fields of a JSON record (so CSV and JSONL share one parser).</summary>
    internal static List<KeyValuePair<string, JsonElement>> ToFields(string[] header, string?[] cells)
    {
        var fields = new List<KeyValuePair<string, JsonElement>>();
        var messageColumns = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++)
            if (header[i].EndsWith("_messages", StringComparison.Ordinal) && !string.IsNullOrEmpty(cells[i]))
                messageColumns.Add(header[i][..^"_messages".Length]);
        for (var i = 0; i < header.Length; i++)
        {
            var name = header[i];
            var cell = cells[i];
            if (name.EndsWith("_messages", StringComparison.Ordinal))
            {
                if (!string.IsNullOrEmpty(cell)) fields.Add(new(name[..^"_messages".Length], ParseJson(cell, name)));
                continue;
            }
            if (messageColumns.Contains(name)) continue; // the text column is the flattened copy of the messages
            if (ResponseColumns.Contains(name))
            {
                fields.Add(new(name, JsonSerializer.SerializeToElement(cell ?? "")));
                continue;
            }
            if (string.IsNullOrEmpty(cell)) continue;
            if (name == "extra")
            {
                var extra = ParseJson(cell, name);
                if (extra.ValueKind != JsonValueKind.Object)
                    throw new RecordException("extra", "column 'extra' must hold a JSON object of extra fields");
                foreach (var p in extra.EnumerateObject()) fields.Add(new(p.Name, p.Value.Clone()));
            }
            else if (JsonColumns.Contains(name)) fields.Add(new(name, ParseJson(cell, name)));
            else if (NumberColumns.Contains(name))
                fields.Add(new(name, double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
                    ? JsonSerializer.SerializeToElement(v)
                    : JsonSerializer.SerializeToElement(cell)));
            else fields.Add(new(name, JsonSerializer.SerializeToElement(cell)));
        }
        return fields;
    }

    static JsonElement ParseJson(string cell, string column)
    {
        try
        {
            using var doc = JsonDocument.Parse(cell);
            var value = doc.RootElement.Clone();
            JsonTextChecks.Check(column, value, checkText: true);
            return value;
        }
        catch (JsonException e)
        {
            throw new RecordException(column, $"column '{column}' must hold JSON (e.g. [\"a\", \"b\"] or {{...}}) but does not parse: {e.Message.Split(" Path:")[0]}");
        }
    }

    /// <summary>A number as the writers write it: shortest round-trip, invariant culture.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
