using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Text;

namespace RewardKit.Generation;

/// <summary>
/// A policy as text in, text out: the <see cref="GptLanguageModel"/> with the tokenizer and the prompt template it was
/// trained with. A prompt is rendered as the template renders (prompt, "") and the model continues it; the response's
/// text is its tokens decoded, without a final EOS and without the separator the template puts before a response (the
/// space after "Assistant:" of the plain template), so (prompt, response) reads back as the same text a reward model scores.
/// </summary>
public sealed class Policy
{
    /// <summary>A policy from its parts.</summary>
    public Policy(GptLanguageModel model, ByteLevelBpeTokenizer tokenizer, PromptTemplate template, RewardModelMetadata metadata)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Template = template ?? throw new ArgumentNullException(nameof(template));
        Metadata = metadata ?? throw new ArgumentNullException(nameof(metadata));
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new ArgumentException($"Policy: the tokenizer has {tokenizer.VocabSize} tokens but the model's vocab_size is {model.Config.VocabSize}; use the model's own tokenizer.", nameof(tokenizer));
    }

    /// <summary>
    /// A policy from scratch: the <paramref name="preset"/> (tiny, small, base) sized for <paramref name="tokenizer"/>
    /// (its vocabulary, end-of-text as EOS and pad), initialised as Hugging Face initialises GPT-2 from <paramref name="seed"/>.
    /// </summary>
    public static Policy Create(string preset, ByteLevelBpeTokenizer tokenizer, PromptTemplate template, ulong seed, int? positions = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int? eos = tokenizer.EndOfTextId >= 0 ? tokenizer.EndOfTextId : null;
        var config = GptConfig.Preset(preset, tokenizer.VocabSize, eos) with
        {
            VocabSize = tokenizer.VocabSize, EosTokenId = eos, PadTokenId = tokenizer.PadId >= 0 ? tokenizer.PadId : null,
        };
        if (positions is { } p) config = config with { Positions = p };
        return new Policy(GptLanguageModel.Create(config, seed), tokenizer, template, new RewardModelMetadata { Template = template.Name, MaxLength = config.Positions });
    }

    /// <summary>
    /// Opens a policy folder (<see cref="PolicyFolder.Load"/>) with its tokenizer and template; <paramref name="template"/>
    /// overrides the folder's (e.g. "hh" for a Hugging Face GPT-2 that reads prompts as they are).
    /// </summary>
    public static Policy Load(string directory, string? template = null)
    {
        var (model, metadata) = PolicyFolder.Load(directory);
        ByteLevelBpeTokenizer tokenizer;
        try { tokenizer = ByteLevelBpeTokenizer.FromDirectory(directory); }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
        {
            throw new InvalidDataException($"{directory}: the policy folder has no readable tokenizer (tokenizer.json or vocab.json + merges.txt): {e.Message}", e);
        }
        var name = template ?? (string.IsNullOrEmpty(metadata.Template) ? "plain" : metadata.Template);
        return new Policy(model, tokenizer, PromptTemplate.FromName(name), metadata);
    }

    /// <summary>The network.</summary>
    public GptLanguageModel Model { get; }

    /// <summary>The tokenizer the model was trained with.</summary>
    public ByteLevelBpeTokenizer Tokenizer { get; }

    /// <summary>How a prompt becomes the text the model continues.</summary>
    public PromptTemplate Template { get; }

    /// <summary>The folder's rewardkit.json (defaults for a plain Hugging Face folder).</summary>
    public RewardModelMetadata Metadata { get; }

    /// <summary>
    /// The token ids of <paramref name="prompt"/> rendered by the template, keeping the last <paramref name="maxTokens"/>
    /// when it is longer (its end is what the response follows); <paramref name="truncated"/> says whether it was cut.
    /// </summary>
    public int[] EncodePrompt(string prompt, int maxTokens, out bool truncated)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        var ids = Tokenizer.Encode(Template.Render(prompt, "").Prompt);
        if (ids.Length == 0 && Tokenizer.EndOfTextId >= 0) ids = [Tokenizer.EndOfTextId];   // an empty rendering: start from end-of-text, as GPT-2 does
        truncated = ids.Length > maxTokens;
        return truncated ? ids[^maxTokens..] : ids;
    }

    /// <summary>The response text of generated <paramref name="tokens"/>: decoded without a final EOS and without the template's separator.</summary>
    public string DecodeResponse(ReadOnlySpan<int> tokens)
    {
        int? eos = Model.Config.EosTokenId;
        if (tokens.Length > 0 && eos is { } e && tokens[^1] == e) tokens = tokens[..^1];
        var text = Tokenizer.Decode(tokens);
        var separator = Template.Render("", "").Response;   // what the template moves before every response, e.g. " "
        return separator.Length > 0 && text.StartsWith(separator, StringComparison.Ordinal) ? text[separator.Length..] : text;
    }

    /// <summary>Writes the policy folder (model, tokenizer, metadata with this template) atomically.</summary>
    public RewardModelMetadata Save(string directory)
    {
        Metadata.Template = Template.Name;
        return PolicyFolder.Save(Model, directory, Metadata, writeExtra: Tokenizer.Save);
    }
}
