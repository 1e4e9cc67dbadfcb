using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RewardKit.IO;
using RewardKit.Models;
using RewardKit.Models.Separate;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Text;

namespace RewardKit.Inference;

/// <summary>
/// <see cref="IRewardModel"/> over a <see cref="SeparateEncoderRewardModel"/>. <see cref="Encode"/> gives the usual
/// <c>[prompt ; response]</c> ids and remembers where the response starts; <see cref="ScoreTokens"/> encodes each distinct
/// prompt once per call (and keeps up to <see cref="PromptCacheEntries"/> prompt encodings across calls), so ranking n
/// responses to one prompt costs one prompt pass and n response passes. Thread-safe.
/// </summary>
public sealed class SeparateEncoderScorer : IRewardModel
{
    readonly SeparateEncoderRewardModel _model;
    readonly SequenceEncoder _encoder;
    readonly WorkerPool? _pool;
    readonly ConcurrentBag<Tape> _tapes = [];
    readonly ConditionalWeakTable<int[], StrongBox<int>> _responseStarts = [];
    readonly ConcurrentDictionary<string, float[]> _prompts = new(StringComparer.Ordinal);

    /// <summary>Wraps <paramref name="model"/> with the encoder it was trained with; <paramref name="maxBatch"/> responses per forward pass.</summary>
    public SeparateEncoderScorer(SeparateEncoderRewardModel model, RewardModelMetadata metadata, SequenceEncoder encoder, WorkerPool? pool = null, int maxBatch = 32)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        Metadata = metadata ?? throw new ArgumentNullException(nameof(metadata));
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _pool = pool;
        MaxBatch = maxBatch;
    }

    /// <inheritdoc />
    public RewardModelMetadata Metadata { get; }

    /// <summary>Responses per forward pass.</summary>
    public int MaxBatch { get; }

    /// <summary>
    /// Reuse prompt encodings: each distinct prompt of a call is encoded once, and up to <see cref="PromptCacheEntries"/>
    /// encodings are kept for later calls. Default true; false encodes every response's prompt in a row of its own (the
    /// baseline of the prompt-caching benchmark; the rewards are the same).
    /// </summary>
    public bool CachePrompts { get; set; } = true;

    /// <summary>Prompt encodings kept across calls (default 4,096; the cache is emptied when full).</summary>
    public int PromptCacheEntries { get; init; } = 4096;

    /// <summary>Prompts encoded by the backbone so far (a prompt served from the cache is not counted).</summary>
    public long PromptsEncoded => Interlocked.Read(ref _promptsEncoded);

    long _promptsEncoded;

    /// <inheritdoc />
    public int[] Encode(string prompt, string response)
    {
        var encoded = _encoder.Encode(prompt, response) ?? throw new InvalidDataException("the prompt and response could not be fitted into the model's maximum length.");
        _responseStarts.AddOrUpdate(encoded.Ids, new StrongBox<int>(encoded.ResponseStart));
        return encoded.Ids;
    }

    /// <inheritdoc />
    public void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (rewards.Length != sequences.Count) throw new ArgumentException($"ScoreTokens: {rewards.Length} slots for {sequences.Count} sequences.", nameof(rewards));
        int filler = Math.Max(0, _model.Config.EosTokenId ?? 0);
        var halves = new (int[] Prompt, int[] Response)[sequences.Count];
        for (int i = 0; i < halves.Length; i++)
        {
            if (!_responseStarts.TryGetValue(sequences[i], out var start))
                throw new InvalidOperationException($"sequence {i} was not made by this model's Encode; a separate-encoder model needs to know where each response starts (score texts, not token ids).");
            halves[i] = SeparateEncoderRewardModel.Split(sequences[i], start.Value, filler);
        }
        if (!_tapes.TryTake(out var tape)) tape = new Tape(_pool) { RecordsGradients = false };
        try
        {
            for (int first = 0; first < halves.Length; first += MaxBatch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(MaxBatch, halves.Length - first);
                try { ScoreChunk(tape, halves.AsSpan(first, count), rewards.Slice(first, count)); }
                finally { tape.Reset(); }
            }
        }
        finally { _tapes.Add(tape); }
    }

    /// <summary>One forward pass over the responses of <paramref name="halves"/> and the prompts not cached.</summary>
    void ScoreChunk(Tape tape, ReadOnlySpan<(int[] Prompt, int[] Response)> halves, Span<float> rewards)
    {
        int b = halves.Length, c = _model.Config.EmbeddingSize;
        var prompts = tape.Empty([b, c]);                                                    // (B, C) each response's prompt encoding
        var keys = new string[b];
        var toEncode = new List<int[]>();
        var slots = new List<List<int>>();
        var keyIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < b; i++)
        {
            if (!CachePrompts) { toEncode.Add(halves[i].Prompt); slots.Add([i]); continue; }
            keys[i] = Convert.ToBase64String(MemoryMarshal.AsBytes(halves[i].Prompt.AsSpan()));
            if (_prompts.TryGetValue(keys[i], out var cached)) cached.CopyTo(prompts.Data.Slice(i * c, c));
            else if (keyIndex.TryGetValue(keys[i], out var row)) slots[row].Add(i);
            else { keyIndex[keys[i]] = toEncode.Count; toEncode.Add(halves[i].Prompt); slots.Add([i]); }
        }
        if (toEncode.Count > 0)
        {
            var encoded = _model.Encode(tape, TokenBatch.FromSequences(toEncode, _model.Config.PadTokenId ?? 0));   // (P, C)
            Interlocked.Add(ref _promptsEncoded, toEncode.Count);
            if (CachePrompts && _prompts.Count + toEncode.Count > PromptCacheEntries) _prompts.Clear();
            for (int p = 0; p < toEncode.Count; p++)
            {
                var vector = encoded.Data.Slice(p * c, c);
                foreach (int i in slots[p]) vector.CopyTo(prompts.Data.Slice(i * c, c));
                if (CachePrompts && PromptCacheEntries > 0) _prompts[keys[slots[p][0]]] = vector.ToArray();
            }
        }
        var responses = new int[b][];
        for (int i = 0; i < b; i++) responses[i] = halves[i].Response;
        var r = _model.Encode(tape, TokenBatch.FromSequences(responses, _model.Config.PadTokenId ?? 0));   // (B, C)
        _model.Fuse(tape, prompts, r).Data.CopyTo(rewards);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _tapes.Clear();
        _prompts.Clear();
    }
}
