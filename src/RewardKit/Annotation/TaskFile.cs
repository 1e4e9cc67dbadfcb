using System.Text.Json;

namespace RewardKit.Annotation;

/// <summary>
/// Reads <c>tasks.jsonl</c>: one task per line,
/// <c>{"id": "t1", "prompt": "...", "responses": ["...", "..."], "mode": "pairwise", "category": "...", "gold": "A"}</c>.
/// <c>mode</c> (pairwise, ranking or rating) defaults to the project's mode; <c>gold</c> makes a gold question:
/// <c>"A"</c>, <c>"B"</c> or <c>"tie"</c> (pairwise), the ranks with 1 = best (ranking) or the 1–5 ratings (rating).
/// Any mistake stops the read with an <see cref="InvalidDataException"/> naming file, line, field and the fix.
/// </summary>
public static class TaskFile
{
    static readonly HashSet<string> Fields = ["id", "prompt", "responses", "mode", "category", "gold"];

    /// <summary>Reads every task of <paramref name="path"/>; lines without <c>mode</c> get <paramref name="defaultMode"/>.</summary>
    public static IReadOnlyList<AnnotationTask> Read(string path, AnnotationMode defaultMode, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found; give the tasks as JSONL (see README, \"Collect human feedback\").", path);
        var tasks = new List<AnnotationTask>();
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            cancellationToken.ThrowIfCancellationRequested();
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var where = $"{path}:{lineNumber}";
            var task = Parse(line, defaultMode, where);
            if (lines.TryGetValue(task.Id, out var first))
                throw new InvalidDataException($"{where}: id '{task.Id}' was already used on line {first}; give every task its own id.");
            lines[task.Id] = lineNumber;
            tasks.Add(task);
        }
        if (tasks.Count == 0) throw new InvalidDataException($"{path}: no tasks; write one JSON object per line.");
        return tasks;
    }

    /// <summary>Parses one line; <paramref name="where"/> (file:line) starts every error message.</summary>
    public static AnnotationTask Parse(string line, AnnotationMode defaultMode, string where)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(line); }
        catch (JsonException e) { throw new InvalidDataException($"{where}: invalid JSON ({e.Message}); write one JSON object per line."); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: expected a JSON object, got {root.ValueKind}.");
            foreach (var property in root.EnumerateObject())
                if (!Fields.Contains(property.Name))
                    throw new InvalidDataException($"{where}: unknown field '{property.Name}'; a task has {string.Join(", ", Fields)}.");
            var id = String(root, "id", where, required: true)!;
            if (!AnnotationLimits.IsValidId(id, AnnotationLimits.MaxTaskIdLength))
                throw new InvalidDataException($"{where}: field 'id' is '{id}'; use at most {AnnotationLimits.MaxTaskIdLength} letters, digits, '_', '.', ':' or '-'.");
            var mode = String(root, "mode", where, required: false) is { } m ? ParseMode(m, where) : defaultMode;
            var prompt = String(root, "prompt", where, required: true)!;
            var responses = Responses(root, mode, where);
            var task = new AnnotationTask
            {
                Id = id, Mode = mode, Prompt = prompt, Responses = responses,
                Category = String(root, "category", where, required: false),
            };
            return root.TryGetProperty("gold", out var gold) && gold.ValueKind != JsonValueKind.Null ? task with { Gold = Gold(gold, task, where) } : task;
        }
    }

    /// <summary>Parses a mode name (pairwise, ranking or rating).</summary>
    public static AnnotationMode ParseMode(string name, string where) => name.ToLowerInvariant() switch
    {
        "pairwise" => AnnotationMode.Pairwise,
        "ranking" => AnnotationMode.Ranking,
        "rating" => AnnotationMode.Rating,
        _ => throw new InvalidDataException($"{where}: mode is '{name}'; use pairwise, ranking or rating."),
    };

    static string? String(JsonElement root, string field, string where, bool required)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            return required ? throw new InvalidDataException($"{where}: field '{field}' is missing.") : null;
        if (value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{where}: field '{field}' must be a string, got {value.ValueKind}.");
        var text = value.GetString()!;
        if (text.Length > AnnotationLimits.MaxTextLength)
            throw new InvalidDataException($"{where}: field '{field}' is {text.Length} characters; the limit is {AnnotationLimits.MaxTextLength}.");
        return text;
    }

    static List<string> Responses(JsonElement root, AnnotationMode mode, string where)
    {
        if (!root.TryGetProperty("responses", out var value) || value.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where}: field 'responses' must be an array of strings.");
        var responses = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{where}: responses[{responses.Count}] must be a string, got {item.ValueKind}.");
            var text = item.GetString()!;
            if (text.Length > AnnotationLimits.MaxTextLength)
                throw new InvalidDataException($"{where}: responses[{responses.Count}] is {text.Length} characters; the limit is {AnnotationLimits.MaxTextLength}.");
            responses.Add(text);
        }
        if (mode == AnnotationMode.Pairwise && responses.Count != 2)
            throw new InvalidDataException($"{where}: a pairwise task has exactly 2 responses, this one has {responses.Count}; use mode ranking for more.");
        if (responses.Count < 2 || responses.Count > AnnotationLimits.MaxResponses)
            throw new InvalidDataException($"{where}: field 'responses' has {responses.Count} entries; give 2 to {AnnotationLimits.MaxResponses}.");
        return responses;
    }

    static AnnotationAnswer Gold(JsonElement gold, AnnotationTask task, string where)
    {
        AnnotationAnswer answer;
        if (task.Mode == AnnotationMode.Pairwise)
        {
            if (gold.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{where}: field 'gold' of a pairwise task is \"A\", \"B\" or \"tie\".");
            var text = gold.GetString()!;
            answer = text.ToLowerInvariant() switch
            {
                "a" => new AnnotationAnswer { Choice = PairChoice.A, Strength = 1 },
                "b" => new AnnotationAnswer { Choice = PairChoice.B, Strength = 1 },
                "tie" => new AnnotationAnswer { Choice = PairChoice.Tie },
                _ => throw new InvalidDataException($"{where}: field 'gold' is '{text}'; use \"A\", \"B\" or \"tie\"."),
            };
        }
        else
        {
            if (gold.ValueKind != JsonValueKind.Array || gold.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out _)))
                throw new InvalidDataException($"{where}: field 'gold' of a {task.Mode.ToString().ToLowerInvariant()} task is an array of integers, one per response.");
            var values = gold.EnumerateArray().Select(v => v.GetInt32()).ToList();
            answer = task.Mode == AnnotationMode.Ranking ? new AnnotationAnswer { Ranks = values } : new AnnotationAnswer { Ratings = values };
        }
        return answer.Problem(task) is { } problem ? throw new InvalidDataException($"{where}: field 'gold': {problem}") : answer;
    }
}
