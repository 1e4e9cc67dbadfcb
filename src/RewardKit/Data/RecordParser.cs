using System.Text.Json;

namespace RewardKit.Data;

/// <summary>A record that cannot be accepted: the field at fault (or null) and what is wrong.</summary>
internal sealed class RecordException(string? field, string message) : Exception(message)
{
    public string? Field { get; } = field;
}

/// <summary>
/// Turns the fields of one record (a JSON object, or a CSV row converted to one) into a typed record, checking every
/// type. Knows the field names of every format; anything else goes to <see cref="PreferenceRecord.Extra"/>.
/// </summary>
internal static class RecordParser
{
    /// <summary>Objective names accepted as top-level label fields (besides a <c>labels</c> object).</summary>
    public static readonly string[] TopLevelObjectives = ["helpfulness", "harmlessness", "honesty"];

    /// <summary>Separator of a HH-RLHF transcript's assistant turn.</summary>
    public const string AssistantTurn = "\n\nAssistant:";

    static readonly HashSet<string> PairFields = ["prompt", "chosen", "rejected", "id", "category", "source", "margin", "weight",
        "annotator", "labels", "gold_reward_chosen", "gold_reward_rejected", "p_true", "helpfulness", "harmlessness", "honesty"];
    static readonly HashSet<string> RankingFields = ["prompt", "responses", "ranks", "gold_rewards", "id", "category", "source"];
    static readonly HashSet<string> RatingFields = ["prompt", "response", "rating", "gold_reward", "annotator", "id", "category", "source"];

    /// <summary>The format a record's fields suggest, or throws when none fits.</summary>
    public static RecordFormat Detect(IReadOnlyList<KeyValuePair<string, JsonElement>> fields)
    {
        bool Has(string name) => fields.Any(f => f.Key == name);
        if (Has("responses") || Has("ranks")) return RecordFormat.Rankings;
        if (Has("response") || Has("rating")) return RecordFormat.Ratings;
        if (Has("chosen") || Has("rejected")) return RecordFormat.Pairs;
        throw new RecordException(null, "record has none of 'chosen'/'rejected' (pairs), 'responses'/'ranks' (rankings) or 'response'/'rating' (ratings); is this a preference file?");
    }

    public static PreferenceRecord Parse(RecordFormat format, IReadOnlyList<KeyValuePair<string, JsonElement>> fields, long line, List<string> warnings, out bool implicitPrompt)
    {
        implicitPrompt = false;
        var map = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (k, v) in fields)
        {
            if (!map.TryAdd(k, v)) throw new RecordException(k, $"field '{k}' appears twice; keep one");
            if (v.ValueKind is JsonValueKind.Object or JsonValueKind.Array) JsonTextChecks.Check(k, v, checkText: false); // keys repeated at any depth
        }
        var detected = Detect(fields);
        if (detected != format)
            throw new RecordException(null, $"record looks like {detected.ToString().ToLowerInvariant()} but the file holds {format.ToString().ToLowerInvariant()} (from its first record or --format); put each format in its own file");
        return format switch
        {
            RecordFormat.Pairs => ParsePair(map, fields, line, warnings, out implicitPrompt),
            RecordFormat.Rankings => ParseRanking(map, fields, line, warnings),
            RecordFormat.Ratings => ParseRating(map, fields, line, warnings),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
    }

    static PreferencePair ParsePair(Dictionary<string, JsonElement> map, IReadOnlyList<KeyValuePair<string, JsonElement>> fields, long line, List<string> warnings, out bool implicitPrompt)
    {
        var (chosenText, chosenMessages) = TextOrMessages(map, "chosen", required: true);
        var (rejectedText, rejectedMessages) = TextOrMessages(map, "rejected", required: true);
        var (promptText, promptMessages) = TextOrMessages(map, "prompt", required: false);
        implicitPrompt = false;
        if (promptText is null)
        {
            implicitPrompt = true;
            if (chosenMessages is not null && rejectedMessages is not null)
            {
                var shared = 0;
                while (shared < chosenMessages.Count && shared < rejectedMessages.Count && chosenMessages[shared] == rejectedMessages[shared]) shared++;
                if (shared == 0 || shared == chosenMessages.Count || shared == rejectedMessages.Count)
                    throw new RecordException("prompt", "field 'prompt' is missing and the chosen/rejected conversations share no prefix of messages followed by differing replies; add a 'prompt' field");
                promptMessages = chosenMessages.Take(shared).ToList();
                chosenMessages = chosenMessages.Skip(shared).ToList();
                rejectedMessages = rejectedMessages.Skip(shared).ToList();
                promptText = ChatTemplate.FlattenPrompt(promptMessages);
                chosenText = ChatTemplate.FlattenResponse(chosenMessages);
                rejectedText = ChatTemplate.FlattenResponse(rejectedMessages);
            }
            else if (chosenMessages is null && rejectedMessages is null)
            {
                (promptText, chosenText, rejectedText) = SplitImplicitPrompt(chosenText!, rejectedText!);
            }
            else throw new RecordException("prompt", "field 'prompt' is missing and one of chosen/rejected is a conversation while the other is text; make both the same kind or add a 'prompt' field");
        }
        if (chosenText == rejectedText)
            throw new RecordException("rejected", "fields 'chosen' and 'rejected' are identical, so the pair says nothing; remove the record or fix one side");
        WarnIfEmpty(chosenText!, "chosen", warnings);
        WarnIfEmpty(rejectedText!, "rejected", warnings);

        var labels = new Dictionary<string, double>(StringComparer.Ordinal);
        if (map.TryGetValue("labels", out var labelsElement) && labelsElement.ValueKind != JsonValueKind.Null)
        {
            if (labelsElement.ValueKind != JsonValueKind.Object)
                throw new RecordException("labels", $"field 'labels' is {Describe(labelsElement)}, expected an object such as {{\"helpfulness\": 1, \"harmlessness\": -1}}");
            foreach (var p in labelsElement.EnumerateObject())
                if (!labels.TryAdd(p.Name, FiniteNumber(p.Value, "labels." + p.Name)))
                    throw new RecordException("labels." + p.Name, $"label '{p.Name}' appears twice; keep one");
        }
        foreach (var objective in TopLevelObjectives)
            if (map.TryGetValue(objective, out var v) && v.ValueKind != JsonValueKind.Null)
                if (!labels.TryAdd(objective, FiniteNumber(v, objective)))
                    throw new RecordException(objective, $"objective '{objective}' is given both at the top level and in 'labels'; keep one");

        var weight = OptionalNumber(map, "weight");
        if (weight < 0) throw new RecordException("weight", $"field 'weight' is {weight}, expected a non-negative number (annotator confidence)");
        var pTrue = OptionalNumber(map, "p_true");
        if (pTrue is < 0 or > 1) throw new RecordException("p_true", $"field 'p_true' is {pTrue}, expected a probability in [0, 1]");

        return new PreferencePair
        {
            Prompt = promptText!,
            Chosen = chosenText!,
            Rejected = rejectedText!,
            PromptMessages = promptMessages,
            ChosenMessages = chosenMessages,
            RejectedMessages = rejectedMessages,
            Id = OptionalId(map),
            Category = OptionalString(map, "category"),
            Source = OptionalString(map, "source"),
            Annotator = OptionalString(map, "annotator"),
            Margin = OptionalNumber(map, "margin"),
            Weight = weight,
            PTrue = pTrue,
            GoldChosen = OptionalNumber(map, "gold_reward_chosen"),
            GoldRejected = OptionalNumber(map, "gold_reward_rejected"),
            Labels = labels.Count == 0 ? PreferenceRecord.EmptyLabels : labels,
            Extra = ExtraOf(fields, PairFields),
            LineNumber = line,
        };
    }

    /// <summary>
    /// Splits HH-RLHF transcripts that both start with the same dialogue: the prompt runs to the end of the last
    /// <c>"\n\nAssistant:"</c> that lies wholly before the first character where the two texts differ.
    /// </summary>
    public static (string Prompt, string Chosen, string Rejected) SplitImplicitPrompt(string chosen, string rejected)
    {
        var diverge = chosen.AsSpan().CommonPrefixLength(rejected);
        var at = chosen.AsSpan(0, diverge).LastIndexOf(AssistantTurn, StringComparison.Ordinal);
        if (at < 0)
            throw new RecordException("prompt", "field 'prompt' is missing and chosen/rejected do not share a '\\n\\nAssistant:' turn before they differ; add a 'prompt' field");
        var cut = at + AssistantTurn.Length;
        return (chosen[..cut], chosen[cut..], rejected[cut..]);
    }

    static RankedGroup ParseRanking(Dictionary<string, JsonElement> map, IReadOnlyList<KeyValuePair<string, JsonElement>> fields, long line, List<string> warnings)
    {
        var (promptText, promptMessages) = TextOrMessages(map, "prompt", required: true);
        if (!map.TryGetValue("responses", out var rs) || rs.ValueKind == JsonValueKind.Null)
            throw new RecordException("responses", "field 'responses' is missing; a ranking needs a list of at least two responses");
        if (rs.ValueKind != JsonValueKind.Array)
            throw new RecordException("responses", $"field 'responses' is {Describe(rs)}, expected an array of strings");
        var responses = new List<string>();
        var i = 0;
        foreach (var r in rs.EnumerateArray())
        {
            if (r.ValueKind != JsonValueKind.String)
                throw new RecordException($"responses[{i}]", $"field 'responses[{i}]' is {Describe(r)}, expected a string");
            var text = r.GetString()!;
            WarnIfEmpty(text, $"responses[{i}]", warnings);
            responses.Add(text);
            i++;
        }
        if (responses.Count < 2) throw new RecordException("responses", $"field 'responses' has {responses.Count} item(s); a ranking needs at least two");
        List<int> ranks;
        if (map.TryGetValue("ranks", out var rk) && rk.ValueKind != JsonValueKind.Null)
        {
            if (rk.ValueKind != JsonValueKind.Array) throw new RecordException("ranks", $"field 'ranks' is {Describe(rk)}, expected an array of integers (0 = best)");
            ranks = [];
            i = 0;
            foreach (var r in rk.EnumerateArray())
            {
                if (r.ValueKind != JsonValueKind.Number || !r.TryGetInt32(out var v) || v < 0)
                    throw new RecordException($"ranks[{i}]", $"field 'ranks[{i}]' is {Describe(r)}, expected a non-negative integer (0 = best)");
                ranks.Add(v);
                i++;
            }
            if (ranks.Count != responses.Count)
                throw new RecordException("ranks", $"field 'ranks' has {ranks.Count} items but 'responses' has {responses.Count}; give one rank per response");
        }
        else ranks = Enumerable.Range(0, responses.Count).ToList();
        List<double>? gold = null;
        if (map.TryGetValue("gold_rewards", out var g) && g.ValueKind != JsonValueKind.Null)
        {
            if (g.ValueKind != JsonValueKind.Array) throw new RecordException("gold_rewards", $"field 'gold_rewards' is {Describe(g)}, expected an array of numbers");
            gold = g.EnumerateArray().Select((e, j) => FiniteNumber(e, $"gold_rewards[{j}]")).ToList();
            if (gold.Count != responses.Count)
                throw new RecordException("gold_rewards", $"field 'gold_rewards' has {gold.Count} items but 'responses' has {responses.Count}");
        }
        return new RankedGroup
        {
            Prompt = promptText!,
            PromptMessages = promptMessages,
            Responses = responses,
            Ranks = ranks,
            GoldRewards = gold,
            Id = OptionalId(map),
            Category = OptionalString(map, "category"),
            Source = OptionalString(map, "source"),
            Extra = ExtraOf(fields, RankingFields),
            LineNumber = line,
        };
    }

    static RatedResponse ParseRating(Dictionary<string, JsonElement> map, IReadOnlyList<KeyValuePair<string, JsonElement>> fields, long line, List<string> warnings)
    {
        var (promptText, promptMessages) = TextOrMessages(map, "prompt", required: true);
        var response = RequiredString(map, "response");
        WarnIfEmpty(response, "response", warnings);
        var rating = OptionalNumber(map, "rating") ?? throw new RecordException("rating", "field 'rating' is missing; a rated response needs a number (e.g. 1-5 stars)");
        return new RatedResponse
        {
            Prompt = promptText!,
            PromptMessages = promptMessages,
            Response = response,
            Rating = rating,
            GoldReward = OptionalNumber(map, "gold_reward"),
            Annotator = OptionalString(map, "annotator"),
            Id = OptionalId(map),
            Category = OptionalString(map, "category"),
            Source = OptionalString(map, "source"),
            Extra = ExtraOf(fields, RatingFields),
            LineNumber = line,
        };
    }

    static void WarnIfEmpty(string text, string field, List<string> warnings)
    {
        if (string.IsNullOrWhiteSpace(text)) warnings.Add($"field '{field}' is an empty response (accepted: models can answer with nothing, but check the source)");
    }

    internal static (string? Text, List<ChatMessage>? Messages) TextOrMessages(Dictionary<string, JsonElement> map, string field, bool required)
    {
        if (!map.TryGetValue(field, out var e) || e.ValueKind == JsonValueKind.Null)
        {
            if (required) throw new RecordException(field, $"field '{field}' is missing; add it as a string or a list of {{\"role\", \"content\"}} messages");
            return (null, null);
        }
        if (e.ValueKind == JsonValueKind.String) return (e.GetString()!, null);
        if (e.ValueKind == JsonValueKind.Array)
        {
            var messages = new List<ChatMessage>();
            var i = 0;
            foreach (var m in e.EnumerateArray())
            {
                var at = $"{field}[{i}]";
                if (m.ValueKind != JsonValueKind.Object) throw new RecordException(at, $"field '{at}' is {Describe(m)}, expected a message {{\"role\": ..., \"content\": ...}}");
                string? role = null, content = null;
                foreach (var p in m.EnumerateObject())
                {
                    if (p.Name == "role") role = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : throw new RecordException(at + ".role", $"field '{at}.role' is {Describe(p.Value)}, expected a string");
                    else if (p.Name == "content") content = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : throw new RecordException(at + ".content", $"field '{at}.content' is {Describe(p.Value)}, expected a string");
                    else throw new RecordException(at + "." + p.Name, $"message field '{at}.{p.Name}' is not supported; messages have only 'role' and 'content'");
                }
                if (role is null) throw new RecordException(at + ".role", $"field '{at}.role' is missing");
                if (content is null) throw new RecordException(at + ".content", $"field '{at}.content' is missing");
                messages.Add(new ChatMessage(role, content));
                i++;
            }
            if (messages.Count == 0) throw new RecordException(field, $"field '{field}' is an empty list of messages");
            var flat = field == "prompt" ? ChatTemplate.FlattenPrompt(messages) : ChatTemplate.FlattenResponse(messages);
            return (flat, messages);
        }
        throw new RecordException(field, $"field '{field}' is {Describe(e)}, expected a string");
    }

    internal static string RequiredString(Dictionary<string, JsonElement> map, string field)
    {
        if (!map.TryGetValue(field, out var e) || e.ValueKind == JsonValueKind.Null)
            throw new RecordException(field, $"field '{field}' is missing");
        return e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new RecordException(field, $"field '{field}' is {Describe(e)}, expected a string");
    }

    static string? OptionalString(Dictionary<string, JsonElement> map, string field)
    {
        if (!map.TryGetValue(field, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind == JsonValueKind.String ? e.GetString() : throw new RecordException(field, $"field '{field}' is {Describe(e)}, expected a string");
    }

    static string? OptionalId(Dictionary<string, JsonElement> map)
    {
        if (map.TryGetValue("id", out var e) && e.ValueKind == JsonValueKind.Number)
            throw new RecordException("id", $"field 'id' is the JSON number {e.GetRawText()}, expected a string; quote it (\"{e.GetRawText()}\")");
        return OptionalString(map, "id");
    }

    static double? OptionalNumber(Dictionary<string, JsonElement> map, string field)
    {
        if (!map.TryGetValue(field, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        return FiniteNumber(e, field);
    }

    static double FiniteNumber(JsonElement e, string field)
    {
        if (e.ValueKind != JsonValueKind.Number)
            throw new RecordException(field, $"field '{field}' is {Describe(e)}, expected a finite number");
        var v = e.GetDouble();
        if (!double.IsFinite(v)) throw new RecordException(field, $"field '{field}' is {e.GetRawText()}, which overflows a double; expected a finite number");
        return v;
    }

    static IReadOnlyDictionary<string, JsonElement> ExtraOf(IReadOnlyList<KeyValuePair<string, JsonElement>> fields, HashSet<string> known)
    {
        OrderedDictionary<string, JsonElement>? extra = null;
        foreach (var (k, v) in fields)
            if (!known.Contains(k))
                (extra ??= new OrderedDictionary<string, JsonElement>(StringComparer.Ordinal))[k] = v.Clone();
        return extra ?? PreferenceRecord.EmptyExtra;
    }

    /// <summary>"a JSON boolean", "the string \"NaN\"", ... for error messages.</summary>
    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.True or JsonValueKind.False => "a JSON boolean",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.String => $"the string {Shorten(e.GetRawText())}",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString(),
    };

    static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...\"";
}
