using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RewardKit.IO;
using RewardKit.Text;

namespace RewardKit.Inference;

/// <summary>The outcome of scoring a conversation file.</summary>
/// <param name="Conversations">Conversations scored.</param>
/// <param name="Turns">Assistant turns scored.</param>
/// <param name="Truncated">Conversations that lost turns or tokens to fit the context.</param>
/// <param name="DroppedTurns">Assistant turns left out (oldest first) in all.</param>
public sealed record ConversationFileResult(int Conversations, int Turns, int Truncated, int DroppedTurns);

/// <summary>
/// Scores a JSONL file of conversations turn by turn (<c>rewardkit score --conversation</c>). Each non-blank line is an
/// object with <c>messages</c> (a list of <c>{"role", "content"}</c>), or <c>conversation</c> (an HH transcript string or
/// such a list), or <c>prompt</c> + <c>response</c> (an HH transcript split as in HH-RLHF: the response is the last
/// assistant turn). Every field is copied; added are <c>turns</c> (<c>[{"message", "reward", "normalized", "calibrated"}]</c>
/// for each assistant turn kept), the conversation's <c>reward</c>, <c>normalized</c> and <c>calibrated</c> (its last turn's),
/// and <c>truncation</c> (<c>{"truncated", "dropped_messages", "dropped_turns", "prompt_tokens_removed",
/// "response_tokens_removed"}</c>). The output is written atomically.
/// </summary>
public static class ConversationFile
{
    /// <summary>Reads <paramref name="inputPath"/>, scores it in chunks of <paramref name="chunkLines"/> and writes <paramref name="output"/>.</summary>
    /// <param name="scorer">The conversation scorer.</param>
    /// <param name="inputPath">JSONL input.</param>
    /// <param name="output">Receives the output lines.</param>
    /// <param name="chunkLines">Conversations scored together.</param>
    /// <param name="progress">Receives the number of conversations done after each chunk.</param>
    /// <param name="cancellationToken">Stops between chunks.</param>
    public static ConversationFileResult Score(ConversationScorer scorer, string inputPath, TextWriter output, int chunkLines = 64,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(output);
        if (!File.Exists(inputPath)) throw new FileNotFoundException($"{inputPath}: conversation file not found.", inputPath);
        var chunk = new List<(JsonObject Record, Conversation Conversation)>();
        int done = 0, turns = 0, truncated = 0, dropped = 0, lineNumber = 0;
        void Flush()
        {
            if (chunk.Count == 0) return;
            var rewards = scorer.Score([.. chunk.Select(c => c.Conversation)], cancellationToken);
            for (int i = 0; i < chunk.Count; i++)
            {
                output.Write(Annotate(chunk[i].Record, rewards[i]).ToJsonString());
                output.Write('\n');
                turns += rewards[i].Turns.Count;
                dropped += rewards[i].Truncation.DroppedTurns;
                if (rewards[i].Truncation.Truncated) truncated++;
            }
            done += chunk.Count;
            chunk.Clear();
            progress?.Report(done);
        }
        foreach (var line in File.ReadLines(inputPath, Encoding.UTF8))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            cancellationToken.ThrowIfCancellationRequested();
            chunk.Add(Parse(line, inputPath, lineNumber));
            if (chunk.Count == chunkLines) Flush();
        }
        Flush();
        return new ConversationFileResult(done, turns, truncated, dropped);
    }

    /// <summary>As <see cref="Score(ConversationScorer, string, TextWriter, int, IProgress{int}?, CancellationToken)"/> into <paramref name="outputPath"/>, written atomically.</summary>
    public static ConversationFileResult Score(ConversationScorer scorer, string inputPath, string outputPath, int chunkLines = 64,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        if (Path.GetFullPath(inputPath) == Path.GetFullPath(outputPath))
            throw new ArgumentException($"{outputPath}: the output must not be the input file.", nameof(outputPath));
        ConversationFileResult? result = null;
        AtomicFile.Write(outputPath, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            result = Score(scorer, inputPath, writer, chunkLines, progress, cancellationToken);
        });
        return result!;
    }

    /// <summary>The conversation of one JSONL line; throws <see cref="InvalidDataException"/> naming the file, line and field.</summary>
    public static (JsonObject Record, Conversation Conversation) Parse(string line, string path, int lineNumber)
    {
        string where = $"{path}:{lineNumber}";
        JsonNode? node;
        try { node = JsonNode.Parse(line, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new InvalidDataException($"{where}: invalid JSON ({e.Message}); each line must be one JSON object.", e); }
        if (node is not JsonObject record)
            throw new InvalidDataException($"{where}: expected a JSON object with \"messages\", \"conversation\" or \"prompt\" + \"response\".");
        try
        {
            var conversation = record["messages"] is { } messages ? new Conversation(Messages(messages, "messages", where))
                : record["conversation"] is JsonArray list ? new Conversation(Messages(list, "conversation", where))
                : record["conversation"] is { } transcript ? Conversation.ParseTranscript(Text(transcript, "conversation", where))
                : record.ContainsKey("prompt") && record.ContainsKey("response")
                    ? Conversation.ParseTranscript(Text(record["prompt"], "prompt", where) + Text(record["response"], "response", where))
                : throw new InvalidDataException($"{where}: no \"messages\", \"conversation\" or \"prompt\" + \"response\" field; give the conversation as one of them.");
            if (conversation.AssistantTurns.Count == 0)
                throw new InvalidDataException($"{where}: the conversation has no assistant message, so no turn to score; add the assistant's reply.");
            return (record, conversation);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{where}: {e.Message}", e);
        }
    }

    static string Text(JsonNode? node, string field, string where) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
        : throw new InvalidDataException($"{where}: field \"{field}\" must be a string.");

    static List<ChatMessage> Messages(JsonNode node, string field, string where)
    {
        if (node is not JsonArray array) throw new InvalidDataException($"{where}: field \"{field}\" must be a list of {{\"role\", \"content\"}} messages.");
        var messages = new List<ChatMessage>(array.Count);
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject m) throw new InvalidDataException($"{where}: {field}[{i}] must be an object {{\"role\", \"content\"}}.");
            messages.Add(new ChatMessage(Text(m["role"], $"{field}[{i}].role", where), Text(m["content"], $"{field}[{i}].content", where)));
        }
        return messages;
    }

    static JsonObject Annotate(JsonObject record, ConversationReward reward)
    {
        var turns = new JsonArray();
        foreach (var t in reward.Turns)
            turns.Add(new JsonObject { ["message"] = t.MessageIndex, ["reward"] = t.Score.Raw, ["normalized"] = t.Score.Normalized, ["calibrated"] = t.Score.Calibrated });
        record["turns"] = turns;
        record["reward"] = reward.Reward.Raw;
        record["normalized"] = reward.Reward.Normalized;
        record["calibrated"] = reward.Reward.Calibrated;
        var cut = reward.Truncation;
        record["truncation"] = new JsonObject
        {
            ["truncated"] = cut.Truncated, ["dropped_messages"] = cut.DroppedMessages, ["dropped_turns"] = cut.DroppedTurns,
            ["prompt_tokens_removed"] = cut.PromptTokensRemoved, ["response_tokens_removed"] = cut.ResponseTokensRemoved,
        };
        return record;
    }
}
