// Shapes: B prompts, T longest prompt, V vocabulary, A sequences still generating.
using System.Buffers;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Generation;

/// <summary>Why a sequence stopped.</summary>
public enum FinishReason
{
    /// <summary>It produced the end-of-sequence token (the last of its tokens).</summary>
    Eos,

    /// <summary>It reached <see cref="SamplingOptions.MaxNewTokens"/> or the model's n_positions.</summary>
    Length,
}

/// <summary>
/// Batched generation from a <see cref="GptLanguageModel"/> with a KV cache: one prefill of the whole prompts, then one
/// decode step per new token in which every unfinished sequence feeds its last token alone and attends over its cached
/// keys and values. Each sequence has its own cache slot and positions (prompts of any lengths; padding is never seen),
/// its own random stream (<see cref="SamplingOptions.RowSeed"/>), and leaves the batch when it stops, so finished
/// sequences cost nothing. Everything runs in inference mode on the engine's kernels; the same seeds give the same
/// tokens for any thread count. A generator keeps its activation arena and KV cache between calls (reused when large
/// enough), so it is used by one thread at a time; the model's weights are read afresh by every call.
/// </summary>
/// <example><code>
/// var generator = new TokenGenerator(policy, pool);
/// var result = generator.Generate(promptIds, new SamplingOptions { Temperature = 0.7f, TopP = 0.9f, Seed = 1 });
/// // result.Tokens[i]: the response ids of prompt i (EOS included when it stopped there); result.LogProbs[i] per token
/// </code></example>
public sealed class TokenGenerator
{
    readonly GptLanguageModel _model;
    readonly WorkerPool _pool;
    readonly Tape _tape;
    KvCache? _cache;

    /// <summary>A generator for <paramref name="model"/> running on <paramref name="pool"/> (default: the caller's thread).</summary>
    public TokenGenerator(GptLanguageModel model, WorkerPool? pool = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _pool = pool ?? WorkerPool.Single;
        _tape = new Tape(_pool) { RecordsGradients = false };
    }

    /// <summary>
    /// Generates a response to each prompt. Log-probs are those of the sampling temperature's distribution before top-k and
    /// top-p, log softmax(logits / τ)[token] (τ = 1 when greedy): what <see cref="GptLanguageModel.ResponseLogProbs"/> computes
    /// for the same sequences and temperature, the rollout's old log-probs of PPO.
    /// </summary>
    /// <param name="prompts">Token ids of each prompt (no padding), each at least one token and shorter than n_positions.</param>
    /// <param name="options">How to pick tokens.</param>
    /// <param name="rowSeeds">One seed per prompt; null derives them from <see cref="SamplingOptions.Seed"/> and the prompt's index.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public GenerationResult Generate(IReadOnlyList<int[]> prompts, SamplingOptions options, IReadOnlyList<ulong>? rowSeeds = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int B = prompts.Count;
        if (B == 0) return new GenerationResult(prompts, [], [], []);
        if (rowSeeds is not null && rowSeeds.Count != B)
            throw new ArgumentException($"TokenGenerator: {rowSeeds.Count} row seeds for {B} prompts.", nameof(rowSeeds));
        int capacity = Capacity(prompts, options);
        int? eos = options.StopAtEos ? options.EosTokenId ?? _model.Config.EosTokenId : null;
        float temperature = options.Greedy ? 1f : options.Temperature;
        var rows = new Row[B];
        for (int b = 0; b < B; b++)
            rows[b] = new Row(prompts[b].Length, new Rng(rowSeeds?[b] ?? SamplingOptions.RowSeed(options.Seed, b, 0)), options.MaxNewTokens);

        var cache = CacheFor(B, capacity);
        var tape = _tape;
        tape.Reset();
        var logits = _model.Prefill(tape, TokenBatch.FromSequences(prompts, padId: 0), cache);   // (B, V)
        int[] active = [.. Enumerable.Range(0, B)];
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            PickTokens(logits, active, rows, options, temperature);
            tape.Reset();
            active = [.. active.Where(slot => !rows[slot].Finish(eos, options.MaxNewTokens, capacity))];
            if (active.Length == 0) break;
            var tokens = active.Select(slot => rows[slot].Tokens[^1]).ToArray();
            logits = _model.DecodeStep(tape, cache, active, tokens);                        // (A, V)
        }
        tape.Reset();
        return new GenerationResult(prompts, [.. rows.Select(r => r.Tokens.ToArray())], [.. rows.Select(r => r.LogProbs.ToArray())],
            [.. rows.Select(r => r.Reason)]);
    }

    /// <summary>The kept cache when it has the rows and positions, else a new one (kept for the next call).</summary>
    KvCache CacheFor(int rows, int capacity)
    {
        if (_cache is null || _cache.Rows < rows || _cache.Capacity < capacity)
        {
            _cache = null;   // let the old one go before allocating the new one
            _cache = new KvCache(_model.Config, rows, capacity);
        }
        Array.Clear(_cache.Lengths);
        return _cache;
    }

    /// <summary>
    /// The prompts of a padded (B, T) grid: each row's tokens where <paramref name="mask"/> is non-zero, in order. Left
    /// padding, right padding or both: the result is the same, and so are the generations (each sequence gets positions
    /// 0, 1, … of its own, as Hugging Face's <c>position_ids = cumsum(attention_mask) − 1</c>).
    /// </summary>
    /// <param name="ids">(B·T) token ids.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="mask">(B·T) 1 for a real token, 0 for padding.</param>
    public static int[][] PromptsFromPadded(ReadOnlySpan<int> ids, int batch, int time, ReadOnlySpan<float> mask)
    {
        if (ids.Length != batch * time || mask.Length != batch * time)
            throw new ArgumentException($"TokenGenerator: ids ({ids.Length}) and mask ({mask.Length}) must both hold B·T = {batch * time} entries.");
        var prompts = new int[batch][];
        for (int b = 0; b < batch; b++)
        {
            var row = new List<int>(time);
            for (int t = 0; t < time; t++)
                if (mask[b * time + t] != 0f) row.Add(ids[b * time + t]);
            if (row.Count == 0) throw new ArgumentException($"TokenGenerator: row {b} of the padded prompts has no real token (its mask is all 0).", nameof(mask));
            prompts[b] = [.. row];
        }
        return prompts;
    }

    /// <summary>Cache positions per slot: the longest prompt plus the new tokens, at most n_positions; checks every prompt fits.</summary>
    int Capacity(IReadOnlyList<int[]> prompts, SamplingOptions options)
    {
        int positions = _model.Config.Positions, longest = 0;
        for (int b = 0; b < prompts.Count; b++)
        {
            int n = prompts[b]?.Length ?? 0;
            if (n == 0) throw new ArgumentException($"TokenGenerator: prompt {b} is empty; a prompt needs at least one token (e.g. the end-of-text token).", nameof(prompts));
            if (n >= positions)
                throw new ArgumentException($"TokenGenerator: prompt {b} has {n} tokens but the model holds n_positions = {positions}, leaving no room to generate; keep its last {positions - 1} tokens at most.", nameof(prompts));
            longest = Math.Max(longest, n);
        }
        return (int)Math.Min(positions, (long)longest + options.MaxNewTokens);
    }

    /// <summary>Picks the next token of each active sequence from its logits row (rows split over the pool).</summary>
    void PickTokens(Tensor logits, int[] active, Row[] rows, SamplingOptions o, float temperature)
    {
        int v = logits.Dim(1);
        _pool.For(active.Length, a =>
        {
            var row = rows[active[a]];
            var x = logits.Data.Slice(a * v, v);
            int token;
            if (o.Greedy) token = TokenSampler.ArgMax(x);
            else
            {
                var buffer = ArrayPool<float>.Shared.Rent(v);
                var filtered = buffer.AsSpan(0, v);
                x.CopyTo(filtered);
                TokenSampler.Filter(filtered, o.Temperature, o.TopK, o.TopP);
                token = TokenSampler.Sample(filtered, row.Rng.NextDouble());
                ArrayPool<float>.Shared.Return(buffer);
            }
            row.LogProbs.Add(TokenSampler.LogProb(x, token, temperature));
            row.Tokens.Add(token);
        });
    }

    /// <summary>One sequence's state: its tokens so far, their log-probs, its random stream.</summary>
    sealed class Row(int promptLength, Rng rng, int maxNewTokens)
    {
        public readonly List<int> Tokens = new(maxNewTokens);
        public readonly List<float> LogProbs = new(maxNewTokens);
        public readonly Rng Rng = rng;
        public FinishReason Reason = FinishReason.Length;

        /// <summary>True when the sequence stops after its last token: EOS, the token budget, or no room left in the cache.</summary>
        public bool Finish(int? eos, int maxNewTokens, int capacity)
        {
            if (eos is { } e && Tokens[^1] == e) { Reason = FinishReason.Eos; return true; }
            return Tokens.Count >= maxNewTokens || promptLength + Tokens.Count >= capacity;
        }
    }
}

/// <summary>What <see cref="TokenGenerator.Generate"/> produced, row i for prompt i.</summary>
/// <param name="Prompts">The prompts' token ids.</param>
/// <param name="Tokens">Each response's token ids, EOS included when it stopped there.</param>
/// <param name="LogProbs">log π_τ of each response token (see <see cref="TokenGenerator.Generate"/>).</param>
/// <param name="Finish">Why each response stopped.</param>
public sealed record GenerationResult(IReadOnlyList<int[]> Prompts, int[][] Tokens, float[][] LogProbs, FinishReason[] Finish)
{
    /// <summary>Tokens generated over all rows.</summary>
    public long TokenCount => Tokens.Sum(t => (long)t.Length);

    /// <summary>
    /// Prompt + response of every row, right-padded with <paramref name="padId"/>, with ResponseStart at each prompt's end:
    /// the batch <see cref="GptLanguageModel.ResponseLogProbs"/> scores (and a reward model reads).
    /// </summary>
    public TokenBatch ToTokenBatch(int padId = 0) =>
        TokenBatch.FromSequences([.. Prompts.Select((p, i) => (int[])[.. p, .. Tokens[i]])], padId, [.. Prompts.Select(p => p.Length)]);
}
