using System.Text.Json;

namespace RewardKit.Data;

/// <summary>One message of a conversation: <c>{"role": "user", "content": "..."}</c>.</summary>
/// <param name="Role">"system", "user" or "assistant" (other roles are kept as written).</param>
/// <param name="Content">The message text.</param>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// What every preference record carries besides its texts: identity, provenance and the extra fields that are kept
/// end to end (written back exactly as read).
/// </summary>
public abstract class PreferenceRecord
{
    /// <summary>The prompt as the model sees it (flattened with <see cref="ChatTemplate"/> when it was a conversation).</summary>
    public required string Prompt { get; init; }

    /// <summary>The prompt as a conversation, when the source gave one; kept for round trips. Null for plain text.</summary>
    public IReadOnlyList<ChatMessage>? PromptMessages { get; init; }

    /// <summary>The record's <c>id</c> field, or null.</summary>
    public string? Id { get; init; }

    /// <summary>The record's <c>category</c> field (task family, app, subset), or null.</summary>
    public string? Category { get; init; }

    /// <summary>The record's <c>source</c> field (data set of origin), or null.</summary>
    public string? Source { get; init; }

    /// <summary>Fields RewardKit has no property for (e.g. <c>agreement</c>), in file order, as raw JSON values.</summary>
    public IReadOnlyDictionary<string, JsonElement> Extra { get; init; } = EmptyExtra;

    /// <summary>1-based line of the record in its source file (for CSV: the line where the row starts); 0 when built in memory.</summary>
    public long LineNumber { get; init; }

    /// <summary>An empty extra-field dictionary.</summary>
    public static IReadOnlyDictionary<string, JsonElement> EmptyExtra { get; } = new Dictionary<string, JsonElement>();

    /// <summary>An empty per-objective label dictionary.</summary>
    public static IReadOnlyDictionary<string, double> EmptyLabels { get; } = new Dictionary<string, double>();
}

/// <summary>
/// A preference pair: for <see cref="PreferenceRecord.Prompt"/>, <see cref="Chosen"/> was preferred over <see cref="Rejected"/>.
/// JSON fields: <c>prompt</c>, <c>chosen</c>, <c>rejected</c>, optional <c>id</c>, <c>category</c>, <c>source</c>,
/// <c>margin</c>, <c>weight</c>, <c>annotator</c>, <c>labels</c> (or top-level <c>helpfulness</c>/<c>harmlessness</c>/<c>honesty</c>),
/// <c>gold_reward_chosen</c>, <c>gold_reward_rejected</c>, <c>p_true</c>; any other field is kept in <see cref="PreferenceRecord.Extra"/>.
/// </summary>
public sealed class PreferencePair : PreferenceRecord
{
    /// <summary>The preferred response (flattened when it was a conversation).</summary>
    public required string Chosen { get; init; }

    /// <summary>The dispreferred response (flattened when it was a conversation).</summary>
    public required string Rejected { get; init; }

    /// <summary>The chosen response as messages, when the source gave a conversation; null otherwise.</summary>
    public IReadOnlyList<ChatMessage>? ChosenMessages { get; init; }

    /// <summary>The rejected response as messages, when the source gave a conversation; null otherwise.</summary>
    public IReadOnlyList<ChatMessage>? RejectedMessages { get; init; }

    /// <summary>How much better chosen is (the <c>margin</c> of a margin loss, e.g. Llama 2), or null.</summary>
    public double? Margin { get; init; }

    /// <summary>Annotator confidence used to weight the loss (<c>weight</c>), non-negative, or null.</summary>
    public double? Weight { get; init; }

    /// <summary>Who labelled the pair (<c>annotator</c>), or null.</summary>
    public string? Annotator { get; init; }

    /// <summary>Per-objective preference, e.g. helpfulness = +1 (chosen better), -1 (rejected better), 0 (equal).</summary>
    public IReadOnlyDictionary<string, double> Labels { get; init; } = EmptyLabels;

    /// <summary>Gold (true) reward of the chosen response (<c>gold_reward_chosen</c>), known for the built-in world.</summary>
    public double? GoldChosen { get; init; }

    /// <summary>Gold (true) reward of the rejected response (<c>gold_reward_rejected</c>).</summary>
    public double? GoldRejected { get; init; }

    /// <summary>True probability that chosen is preferred over rejected (<c>p_true</c>); Bayes-optimal accuracy is the mean of max(p, 1-p).</summary>
    public double? PTrue { get; init; }
}

/// <summary>
/// Responses to one prompt with their ranks (0 = best; equal ranks are ties).
/// JSON fields: <c>prompt</c>, <c>responses</c>, <c>ranks</c>, optional <c>gold_rewards</c>, <c>id</c>, <c>category</c>, <c>source</c>.
/// </summary>
public sealed class RankedGroup : PreferenceRecord
{
    /// <summary>The candidate responses (at least two).</summary>
    public required IReadOnlyList<string> Responses { get; init; }

    /// <summary>Rank of each response, same length as <see cref="Responses"/>; 0 is best, ties allowed.</summary>
    public required IReadOnlyList<int> Ranks { get; init; }

    /// <summary>Gold reward of each response (<c>gold_rewards</c>), or null.</summary>
    public IReadOnlyList<double>? GoldRewards { get; init; }
}

/// <summary>
/// One response with a scalar rating (e.g. 1-5 stars). JSON fields: <c>prompt</c>, <c>response</c>, <c>rating</c>,
/// optional <c>gold_reward</c>, <c>annotator</c>, <c>id</c>, <c>category</c>, <c>source</c>.
/// </summary>
public sealed class RatedResponse : PreferenceRecord
{
    /// <summary>The rated response.</summary>
    public required string Response { get; init; }

    /// <summary>The rating; finite; higher is better.</summary>
    public required double Rating { get; init; }

    /// <summary>Gold reward of the response (<c>gold_reward</c>), or null.</summary>
    public double? GoldReward { get; init; }

    /// <summary>Who rated it (<c>annotator</c>), or null.</summary>
    public string? Annotator { get; init; }
}

/// <summary>
/// The simple template that flattens a conversation into the text a reward model reads, in the HH-RLHF style:
/// each message becomes <c>"\n\n" + Speaker + ": " + content</c> with Speaker = Human (user), Assistant (assistant),
/// System (system) or the role itself; a prompt ends with <c>"\n\nAssistant:"</c>; a response made only of assistant
/// messages is <c>" " + contents joined by "\n\n"</c>.
/// </summary>
public static class ChatTemplate
{
    /// <summary>The speaker name a role is written with.</summary>
    public static string Speaker(string role) => role switch
    {
        "user" => "Human",
        "assistant" => "Assistant",
        "system" => "System",
        _ => role,
    };

    /// <summary>Flattens a prompt conversation: every message, then <c>"\n\nAssistant:"</c>.</summary>
    public static string FlattenPrompt(IReadOnlyList<ChatMessage> messages)
    {
        var text = new System.Text.StringBuilder();
        foreach (var m in messages) text.Append("\n\n").Append(Speaker(m.Role)).Append(": ").Append(m.Content);
        return text.Append("\n\nAssistant:").ToString();
    }

    /// <summary>Flattens a response conversation (usually one assistant message).</summary>
    public static string FlattenResponse(IReadOnlyList<ChatMessage> messages)
    {
        if (messages.All(m => m.Role == "assistant"))
            return " " + string.Join("\n\n", messages.Select(m => m.Content));
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (i == 0 && m.Role == "assistant") text.Append(' ').Append(m.Content);
            else text.Append("\n\n").Append(Speaker(m.Role)).Append(": ").Append(m.Content);
        }
        return text.ToString();
    }
}
