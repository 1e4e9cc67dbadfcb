namespace RewardKit.Text;

/// <summary>What to do with a prompt + response longer than <see cref="SequenceOptions.MaxLength"/>.</summary>
public enum OverflowPolicy
{
    /// <summary>Cut the prompt from the left (keep its end); only if the response alone is too long, cut the response's end.</summary>
    Truncate,
    /// <summary>Leave the pair out (counted in the <see cref="TruncationReport"/>).</summary>
    Drop,
    /// <summary>Stop with an error naming the record.</summary>
    Error,
}

/// <summary>How prompt/response pairs become one token sequence. Call <see cref="Validate"/> (the encoder does).</summary>
public sealed record SequenceOptions
{
    /// <summary>Longest sequence in tokens, end-of-text included. Default 512.</summary>
    public int MaxLength { get; init; } = 512;

    /// <summary>What to do when a pair is longer. Default <see cref="OverflowPolicy.Truncate"/>.</summary>
    public OverflowPolicy OnOverflow { get; init; } = OverflowPolicy.Truncate;

    /// <summary>Append <c>&lt;|endoftext|&gt;</c> after the response (the reward is then read there). Default false:
    /// the reward is read at the response's own last token.</summary>
    public bool AppendEndOfText { get; init; }

    /// <summary>Match special tokens written in the text. Default false (they are plain text).</summary>
    public bool AllowSpecial { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and the fix.</summary>
    public void Validate()
    {
        int min = AppendEndOfText ? 2 : 1;
        if (MaxLength < min)
            throw new ArgumentException($"MaxLength is {MaxLength}; it must be at least {min} (room for one response token{(AppendEndOfText ? " and end-of-text" : "")}).", nameof(MaxLength));
        if (!Enum.IsDefined(OnOverflow)) throw new ArgumentException($"OnOverflow {OnOverflow} is not one of truncate, drop, error.", nameof(OnOverflow));
    }
}

/// <summary>What truncation did to one sequence.</summary>
/// <param name="PromptTokensRemoved">Tokens cut from the start of the prompt.</param>
/// <param name="ResponseTokensRemoved">Tokens cut from the end of the response.</param>
public readonly record struct TruncationRecord(int PromptTokensRemoved, int ResponseTokensRemoved)
{
    /// <summary>True when anything was cut.</summary>
    public bool Truncated => PromptTokensRemoved > 0 || ResponseTokensRemoved > 0;
}

/// <summary>One encoded pair: <c>[prompt ; response (; end-of-text)]</c>.</summary>
public sealed class EncodedSequence
{
    /// <summary>A sequence; <paramref name="responseStart"/> is the index of the first response token.</summary>
    public EncodedSequence(int[] ids, int responseStart, TruncationRecord truncation)
    {
        if (responseStart < 0 || responseStart > ids.Length) throw new ArgumentOutOfRangeException(nameof(responseStart));
        Ids = ids;
        ResponseStart = responseStart;
        Truncation = truncation;
    }

    /// <summary>The token ids.</summary>
    public int[] Ids { get; }

    /// <summary>Index of the first response token (= the number of prompt tokens kept).</summary>
    public int ResponseStart { get; }

    /// <summary>Number of tokens.</summary>
    public int Length => Ids.Length;

    /// <summary>Index of the last real token, where the model reads the reward.</summary>
    public int LastTokenIndex => Ids.Length - 1;

    /// <summary>What was cut.</summary>
    public TruncationRecord Truncation { get; }
}

/// <summary>
/// Counts what truncation did over a data set (TRL silently drops overlong pairs, huggingface/trl#2488; RewardKit
/// reports them). Safe to add to from several threads.
/// </summary>
public sealed class TruncationReport
{
    long _sequences, _truncated, _promptTruncated, _responseTruncated, _dropped, _promptTokensRemoved, _responseTokensRemoved;

    /// <summary>Pairs seen (dropped ones included).</summary>
    public long Sequences => Interlocked.Read(ref _sequences);

    /// <summary>Pairs whose prompt was cut.</summary>
    public long PromptTruncated => Interlocked.Read(ref _promptTruncated);

    /// <summary>Pairs whose response was cut (the response alone was longer than the limit).</summary>
    public long ResponseTruncated => Interlocked.Read(ref _responseTruncated);

    /// <summary>Pairs left out under <see cref="OverflowPolicy.Drop"/>.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Prompt tokens cut in all.</summary>
    public long PromptTokensRemoved => Interlocked.Read(ref _promptTokensRemoved);

    /// <summary>Response tokens cut in all.</summary>
    public long ResponseTokensRemoved => Interlocked.Read(ref _responseTokensRemoved);

    /// <summary>Pairs that were cut or dropped.</summary>
    public long Affected => Interlocked.Read(ref _dropped) + Interlocked.Read(ref _truncated);

    /// <summary>Records one pair that was kept (possibly truncated).</summary>
    public void Add(TruncationRecord record)
    {
        Interlocked.Increment(ref _sequences);
        if (record.Truncated) Interlocked.Increment(ref _truncated);
        if (record.PromptTokensRemoved > 0)
        {
            Interlocked.Increment(ref _promptTruncated);
            Interlocked.Add(ref _promptTokensRemoved, record.PromptTokensRemoved);
        }
        if (record.ResponseTokensRemoved > 0)
        {
            Interlocked.Increment(ref _responseTruncated);
            Interlocked.Add(ref _responseTokensRemoved, record.ResponseTokensRemoved);
        }
    }

    /// <summary>Records one pair that was dropped.</summary>
    public void AddDropped()
    {
        Interlocked.Increment(ref _sequences);
        Interlocked.Increment(ref _dropped);
    }

    /// <summary>One line for logs, e.g. "1000 sequences: 12 prompts truncated (3,400 tokens), 1 response truncated (20 tokens), 0 dropped".</summary>
    public override string ToString() =>
        $"{Sequences} sequences: {PromptTruncated} prompts truncated ({PromptTokensRemoved} tokens), "
        + $"{ResponseTruncated} responses truncated ({ResponseTokensRemoved} tokens), {Dropped} dropped";
}

/// <summary>
/// Encodes prompt and response separately (keeping the boundary) and fits them into
/// <see cref="SequenceOptions.MaxLength"/> without hiding the response: the prompt is cut from the left first,
/// and the response's end only when the response alone does not fit.
/// </summary>
public sealed class SequenceEncoder
{
    readonly ByteLevelBpeTokenizer _tokenizer;

    /// <summary>An encoder for <paramref name="tokenizer"/> with <paramref name="options"/> (validated here).</summary>
    public SequenceEncoder(ByteLevelBpeTokenizer tokenizer, SequenceOptions options, PromptTemplate? template = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.AppendEndOfText && tokenizer.EndOfTextId < 0)
            throw new ArgumentException("AppendEndOfText is set but the tokenizer has no <|endoftext|> token.", nameof(options));
        _tokenizer = tokenizer;
        Options = options;
        Template = template ?? PromptTemplate.Hh;
    }

    /// <summary>The options in use.</summary>
    public SequenceOptions Options { get; }

    /// <summary>The template applied by <see cref="Encode(string, string, TruncationReport?, string?)"/>.</summary>
    public PromptTemplate Template { get; }

    /// <summary>Renders the pair with <see cref="Template"/> and encodes it; null when dropped.</summary>
    /// <param name="prompt">The prompt as stored in the data.</param>
    /// <param name="response">The response.</param>
    /// <param name="report">Counts truncations and drops, if given.</param>
    /// <param name="where">Names the record in errors (e.g. "data.jsonl:12 chosen").</param>
    public EncodedSequence? Encode(string prompt, string response, TruncationReport? report = null, string? where = null) =>
        Encode(Template.Render(prompt, response), report, where);

    /// <summary>Encodes an already rendered pair; null when dropped.</summary>
    public EncodedSequence? Encode(TemplatedText text, TruncationReport? report = null, string? where = null)
    {
        var prompt = _tokenizer.Encode(text.Prompt, Options.AllowSpecial);
        var response = _tokenizer.Encode(text.Response, Options.AllowSpecial);
        return Fit(prompt, response, Options, _tokenizer.EndOfTextId, report, where);
    }

    /// <summary>
    /// Joins already encoded halves under <paramref name="options"/>: prompt cut from the left, then the response's
    /// end; end-of-text appended if asked. Returns null when the pair is dropped.
    /// </summary>
    public static EncodedSequence? Fit(ReadOnlySpan<int> prompt, ReadOnlySpan<int> response, SequenceOptions options,
        int endOfTextId, TruncationReport? report = null, string? where = null)
    {
        int eos = options.AppendEndOfText ? 1 : 0;
        int budget = options.MaxLength - eos;
        int total = prompt.Length + response.Length;
        if (total > budget)
        {
            if (options.OnOverflow == OverflowPolicy.Drop)
            {
                report?.AddDropped();
                return null;
            }
            if (options.OnOverflow == OverflowPolicy.Error)
                throw new InvalidDataException($"{where ?? "a record"}: prompt ({prompt.Length} tokens) + response ({response.Length} tokens){(eos > 0 ? " + end-of-text" : "")} is longer than max length {options.MaxLength}; raise the max length or choose overflow policy truncate or drop.");
        }
        int keepResponse = Math.Min(response.Length, budget);
        int keepPrompt = Math.Min(prompt.Length, budget - keepResponse);
        var ids = new int[keepPrompt + keepResponse + eos];
        prompt.Slice(prompt.Length - keepPrompt).CopyTo(ids);
        response.Slice(0, keepResponse).CopyTo(ids.AsSpan(keepPrompt));
        if (eos > 0) ids[^1] = endOfTextId;
        var record = new TruncationRecord(prompt.Length - keepPrompt, response.Length - keepResponse);
        report?.Add(record);
        return new EncodedSequence(ids, keepPrompt, record);
    }
}
