using System.Text;

namespace RewardKit.Text;

/// <summary>
/// A multi-turn conversation: role/content messages in order. Each assistant message is a turn a reward model can score,
/// with every message before it as its context. Made from a message list or parsed from an HH-RLHF transcript
/// ("\n\nHuman: ...\n\nAssistant: ..."), which <see cref="Transcript"/> writes back.
/// </summary>
public sealed class Conversation
{
    /// <summary>The role of the turns that are scored.</summary>
    public const string AssistantRole = "assistant";

    static readonly (string Speaker, string Role)[] Speakers = [("Human", "user"), ("Assistant", AssistantRole), ("System", "system")];

    /// <summary>A conversation of <paramref name="messages"/>; throws <see cref="ArgumentException"/> when a message has no role.</summary>
    public Conversation(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is null || string.IsNullOrEmpty(messages[i].Role))
                throw new ArgumentException($"message {i} has no role; give every message a role (user, assistant or system).", nameof(messages));
            if (messages[i].Content is null)
                throw new ArgumentException($"message {i} has no content; use \"\" for an empty message.", nameof(messages));
        }
        Messages = [.. messages];
        AssistantTurns = [.. Enumerable.Range(0, Messages.Count).Where(i => Messages[i].Role == AssistantRole)];
    }

    /// <summary>The messages in order.</summary>
    public IReadOnlyList<ChatMessage> Messages { get; }

    /// <summary>The indices (into <see cref="Messages"/>) of the assistant messages, the turns that are scored.</summary>
    public IReadOnlyList<int> AssistantTurns { get; }

    /// <summary>
    /// Parses an HH-RLHF transcript: messages start at "Human:", "Assistant:" or "System:" after a blank line ("\n\n", or at
    /// the very start); one space after the colon is part of the marker. Throws <see cref="FormatException"/> when text
    /// comes before the first marker or there is no marker at all.
    /// </summary>
    public static Conversation ParseTranscript(string transcript)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        var starts = new List<(int At, int ContentStart, string Role)>();
        foreach (var (speaker, role) in Speakers)
        {
            var marker = "\n\n" + speaker + ":";
            for (int at = transcript.IndexOf(marker, StringComparison.Ordinal); at >= 0; at = transcript.IndexOf(marker, at + 1, StringComparison.Ordinal))
                starts.Add((at, at + marker.Length, role));
            if (transcript.StartsWith(speaker + ":", StringComparison.Ordinal)) starts.Add((0, speaker.Length + 1, role));
        }
        if (starts.Count == 0)
            throw new FormatException("the transcript has no \"\\n\\nHuman:\" or \"\\n\\nAssistant:\" marker; write it as \"\\n\\nHuman: ...\\n\\nAssistant: ...\" or give a list of {role, content} messages.");
        starts.Sort((a, b) => a.At.CompareTo(b.At));
        if (!string.IsNullOrWhiteSpace(transcript[..starts[0].At]))
            throw new FormatException($"the transcript has text before its first \"Human:\"/\"Assistant:\" marker ({Preview(transcript[..starts[0].At])}); every message must start with a speaker.");
        var messages = new List<ChatMessage>(starts.Count);
        for (int i = 0; i < starts.Count; i++)
        {
            int from = starts[i].ContentStart, to = i + 1 < starts.Count ? starts[i + 1].At : transcript.Length;
            if (from < transcript.Length && from < to && transcript[from] == ' ') from++;
            messages.Add(new ChatMessage(starts[i].Role, transcript[from..Math.Max(from, to)]));
        }
        return new Conversation(messages);
    }

    /// <summary>The HH-RLHF transcript of <paramref name="messages"/>: "\n\n{Speaker}: {content}" for each (Human, Assistant, System).</summary>
    public static string Transcript(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var text = new StringBuilder();
        foreach (var m in messages) text.Append("\n\n").Append(SpeakerOf(m.Role)).Append(": ").Append(m.Content);
        return text.ToString();
    }

    /// <summary>The speaker name a transcript writes for <paramref name="role"/> (user → Human, assistant → Assistant, system → System; others as they are).</summary>
    public static string SpeakerOf(string role)
    {
        foreach (var (speaker, r) in Speakers) if (r == role) return speaker;
        return role;
    }

    static string Preview(string text) => text.Length <= 40 ? $"\"{text}\"" : $"\"{text[..40]}...\"";
}
