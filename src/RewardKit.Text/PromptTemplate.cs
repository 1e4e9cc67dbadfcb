namespace RewardKit.Text;

/// <summary>
/// A rendered (prompt, response) pair: the text the model reads is <see cref="Prompt"/> + <see cref="Response"/>,
/// and the two halves are kept apart so their tokens can be too (later stages mask or pool on the boundary).
/// The split is placed so that encoding the halves separately gives the same tokens as encoding the whole
/// (a space before the response belongs to the response, as GPT-2 attaches spaces to the following word).
/// </summary>
/// <param name="Prompt">Everything before the response.</param>
/// <param name="Response">The response, with its leading space if it has one.</param>
public readonly record struct TemplatedText(string Prompt, string Response)
{
    /// <summary>The whole text, prompt then response.</summary>
    public string Text => Prompt + Response;
}

/// <summary>One message of a conversation.</summary>
/// <param name="Role">Who speaks, e.g. "system", "user", "assistant".</param>
/// <param name="Content">What is said.</param>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// Turns a prompt and a response into the text a reward model reads. <see cref="Plain"/> is the seeds'
/// "Human: {prompt}\n\nAssistant: {response}"; <see cref="Hh"/> takes HH-RLHF transcripts as they are (the prompt
/// already ends with "\n\nAssistant:"); <see cref="Chat"/> renders role/content messages.
/// </summary>
public abstract class PromptTemplate
{
    /// <summary>The template's name as the CLI spells it.</summary>
    public abstract string Name { get; }

    /// <summary>Renders one prompt/response pair.</summary>
    public abstract TemplatedText Render(string prompt, string response);

    /// <summary>
    /// Renders one assistant turn of a conversation: the messages before it (<paramref name="context"/>) as the prompt and
    /// its <paramref name="content"/> as the response, written so that a later turn of the same conversation renders to a
    /// text that starts with this one (a causal model then reads every turn's reward in one pass over the last turn).
    /// By default the context is an HH-RLHF transcript ending in "\n\nAssistant:" and the response is " " + content, the
    /// form the data readers give a conversation prompt.
    /// </summary>
    public virtual TemplatedText RenderTurn(IReadOnlyList<ChatMessage> context, string content)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Render(Conversation.Transcript(context) + "\n\nAssistant:", " " + content);
    }

    /// <summary>"Human: {prompt}\n\nAssistant: {response}" (the form of the seeds).</summary>
    public static PromptTemplate Plain { get; } = new PlainTemplate();

    /// <summary>HH-RLHF transcripts as they are: text = prompt + response.</summary>
    public static PromptTemplate Hh { get; } = new HhTemplate();

    /// <summary>A chat template over role/content messages; <paramref name="template"/> defaults to <see cref="ChatTemplate"/>'s defaults.</summary>
    public static ChatPromptTemplate Chat(ChatTemplate? template = null) => new(template ?? new ChatTemplate());

    /// <summary>The names <see cref="FromName"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["plain", "hh", "chat"];

    /// <summary>The template called <paramref name="name"/> ("plain", "hh" or "chat" with the default chat format).</summary>
    public static PromptTemplate FromName(string name) => name.ToLowerInvariant() switch
    {
        "plain" => Plain,
        "hh" => Hh,
        "chat" => Chat(),
        _ => throw new ArgumentException($"unknown prompt template '{name}'; use one of: {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>Moves trailing spaces of a prompt part onto the response, where GPT-2 tokenisation puts them.</summary>
    protected static TemplatedText Split(string prompt, string response)
    {
        int end = prompt.Length;
        while (end > 0 && prompt[end - 1] == ' ') end--;
        return end == prompt.Length ? new(prompt, response) : new(prompt[..end], prompt[end..] + response);
    }

    sealed class PlainTemplate : PromptTemplate
    {
        public override string Name => "plain";
        public override TemplatedText Render(string prompt, string response) =>
            Split("Human: " + prompt + "\n\nAssistant: ", response);

        /// <summary>"Human: {first user message}" then the rest of the transcript: the seeds' form, extended turn by turn.</summary>
        public override TemplatedText RenderTurn(IReadOnlyList<ChatMessage> context, string content)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.Count == 0 || context[0].Role != "user") return base.RenderTurn(context, content);
            return Render(context[0].Content + Conversation.Transcript([.. context.Skip(1)]), content);
        }
    }

    sealed class HhTemplate : PromptTemplate
    {
        public override string Name => "hh";
        public override TemplatedText Render(string prompt, string response) => new(prompt, response);
    }
}

/// <summary>
/// How <see cref="ChatPromptTemplate"/> writes messages: each message is <see cref="MessageFormat"/> with
/// <c>{role}</c> and <c>{content}</c> filled in; the response is the content of a final assistant message, so the
/// prompt ends with the assistant header (the format up to <c>{content}</c>).
/// </summary>
public sealed record ChatTemplate
{
    /// <summary>Format of one message. Default <c>"&lt;|{role}|&gt;\n{content}\n"</c>.</summary>
    public string MessageFormat { get; init; } = "<|{role}|>\n{content}\n";

    /// <summary>Role of the responses. Default "assistant".</summary>
    public string AssistantRole { get; init; } = "assistant";

    /// <summary>Display names of roles (e.g. user → Human); roles not listed are written as they are. Default none.</summary>
    public IReadOnlyDictionary<string, string> RoleNames { get; init; } = new Dictionary<string, string>();

    /// <summary>Also write the format's text after <c>{content}</c> at the end of the response. Default false (the
    /// response ends with its own last token, where the reward is read).</summary>
    public bool CloseResponse { get; init; }

    /// <summary>HH-RLHF's transcript form: "\n\nHuman: ...\n\nAssistant: ..." for roles user and assistant.</summary>
    public static ChatTemplate HhStyle { get; } = new()
    {
        MessageFormat = "\n\n{role}: {content}",
        RoleNames = new Dictionary<string, string> { ["user"] = "Human", ["assistant"] = "Assistant", ["system"] = "System" },
    };

    /// <summary>Throws <see cref="ArgumentException"/> when the format lacks a placeholder.</summary>
    public void Validate()
    {
        if (MessageFormat is null || !MessageFormat.Contains("{content}", StringComparison.Ordinal))
            throw new ArgumentException("MessageFormat must contain {content} (and usually {role}), e.g. \"<|{role}|>\\n{content}\\n\".", nameof(MessageFormat));
        if (string.IsNullOrEmpty(AssistantRole)) throw new ArgumentException("AssistantRole must not be empty.", nameof(AssistantRole));
    }
}

/// <summary>Renders conversations with a <see cref="ChatTemplate"/>.</summary>
public sealed class ChatPromptTemplate : PromptTemplate
{
    readonly string _before, _after;

    /// <summary>A chat renderer for <paramref name="template"/> (validated here).</summary>
    public ChatPromptTemplate(ChatTemplate template)
    {
        ArgumentNullException.ThrowIfNull(template);
        template.Validate();
        Template = template;
        int at = template.MessageFormat.IndexOf("{content}", StringComparison.Ordinal);
        _before = template.MessageFormat[..at];
        _after = template.MessageFormat[(at + "{content}".Length)..];
    }

    /// <summary>The format in use.</summary>
    public ChatTemplate Template { get; }

    /// <inheritdoc />
    public override string Name => "chat";

    /// <summary>A single-turn conversation: one user message and the response.</summary>
    public override TemplatedText Render(string prompt, string response) =>
        Render([new ChatMessage("user", prompt)], response);

    /// <summary>Renders <paramref name="conversation"/> as the prompt and <paramref name="response"/> as the final assistant message.</summary>
    public TemplatedText Render(IReadOnlyList<ChatMessage> conversation, string response)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < conversation.Count; i++)
        {
            var m = conversation[i];
            if (string.IsNullOrEmpty(m.Role)) throw new ArgumentException($"message {i} has no role.", nameof(conversation));
            sb.Append(Header(m.Role)).Append(m.Content).Append(_after);
        }
        sb.Append(Header(Template.AssistantRole));
        return Split(sb.ToString(), Template.CloseResponse ? response + _after : response);
    }

    /// <summary>The messages in this template's own format (see <see cref="PromptTemplate.RenderTurn"/>).</summary>
    public override TemplatedText RenderTurn(IReadOnlyList<ChatMessage> context, string content) => Render(context, content);

    /// <summary>Renders a conversation whose last message is the assistant's response.</summary>
    public TemplatedText Render(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0 || messages[^1].Role != Template.AssistantRole)
            throw new ArgumentException($"the last message must be the response, with role '{Template.AssistantRole}'.", nameof(messages));
        return Render(messages.Take(messages.Count - 1).ToList(), messages[^1].Content);
    }

    string Header(string role) =>
        _before.Replace("{role}", Template.RoleNames.TryGetValue(role, out var shown) ? shown : role, StringComparison.Ordinal);
}
