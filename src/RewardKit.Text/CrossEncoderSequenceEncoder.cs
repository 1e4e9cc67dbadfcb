namespace RewardKit.Text;

/// <summary>
/// Encodes (prompt, response) for a BERT cross-encoder: <c>[CLS] prompt [SEP] response [SEP]</c>, the prompt as segment A
/// and the response as segment B (no prompt template: the segments separate them). Long pairs are fitted into
/// <see cref="SequenceOptions.MaxLength"/> (the three special tokens included) by <see cref="SequenceEncoder.Fit"/>: the
/// prompt keeps its end, the response its start, and each cut is counted in the <see cref="TruncationReport"/> as on the
/// GPT-2 path. <see cref="EncodedSequence.ResponseStart"/> is the first response token (after the first [SEP]).
/// </summary>
public sealed class CrossEncoderSequenceEncoder
{
    /// <summary>[CLS], [SEP] and [SEP].</summary>
    public const int SpecialTokens = 3;

    readonly WordPieceTokenizer _tokenizer;

    /// <summary>An encoder for <paramref name="tokenizer"/>; <see cref="SequenceOptions.AppendEndOfText"/> must be off (the closing [SEP] ends the sequence).</summary>
    public CrossEncoderSequenceEncoder(WordPieceTokenizer tokenizer, SequenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.MaxLength < SpecialTokens + 1)
            throw new ArgumentException($"MaxLength is {options.MaxLength}; a cross-encoder needs at least {SpecialTokens + 1} ([CLS], [SEP], [SEP] and one response token).", nameof(options));
        if (options.AppendEndOfText) throw new ArgumentException("AppendEndOfText does not apply to a cross-encoder (its closing [SEP] ends the sequence).", nameof(options));
        _tokenizer = tokenizer;
        Options = options;
    }

    /// <summary>The options in use.</summary>
    public SequenceOptions Options { get; }

    /// <summary>The tokenizer.</summary>
    public WordPieceTokenizer Tokenizer => _tokenizer;

    /// <summary>The sequence for (prompt, response); null when dropped by <see cref="OverflowPolicy.Drop"/>.</summary>
    /// <param name="prompt">The prompt as stored in the data.</param>
    /// <param name="response">The response.</param>
    /// <param name="report">Counts truncations and drops, if given.</param>
    /// <param name="where">Names the record in errors.</param>
    public EncodedSequence? Encode(string prompt, string response, TruncationReport? report = null, string? where = null)
    {
        var p = _tokenizer.Encode(prompt);
        var r = _tokenizer.Encode(response);
        var fitted = SequenceEncoder.Fit(p, r, Options with { MaxLength = Options.MaxLength - SpecialTokens }, endOfTextId: -1, report, where);
        if (fitted is null) return null;
        int keptPrompt = fitted.ResponseStart, keptResponse = fitted.Length - keptPrompt;
        var ids = new int[fitted.Length + SpecialTokens];
        ids[0] = _tokenizer.ClsId;
        fitted.Ids.AsSpan(0, keptPrompt).CopyTo(ids.AsSpan(1));
        ids[keptPrompt + 1] = _tokenizer.SepId;
        fitted.Ids.AsSpan(keptPrompt, keptResponse).CopyTo(ids.AsSpan(keptPrompt + 2));
        ids[^1] = _tokenizer.SepId;
        return new EncodedSequence(ids, keptPrompt + 2, fitted.Truncation);
    }
}
