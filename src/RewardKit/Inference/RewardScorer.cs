using RewardKit.IO;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Inference;

/// <summary>Options of a <see cref="RewardScorer"/>.</summary>
public sealed record RewardScorerOptions
{
    /// <summary>Sequences per forward pass in length-bucketed batching (default 16).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Entries of the score cache (default 100,000; 0 disables caching).</summary>
    public int CacheEntries { get; init; } = 100_000;

    /// <summary>Byte budget of the score cache (default 64 MiB).</summary>
    public long CacheBytes { get; init; } = 64L << 20;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field and the fix.</summary>
    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentException($"BatchSize is {BatchSize}; use a batch size of at least 1.", nameof(BatchSize));
        if (CacheEntries < 0) throw new ArgumentException($"CacheEntries is {CacheEntries}; use 0 to disable the cache or a positive bound.", nameof(CacheEntries));
        if (CacheBytes < 0) throw new ArgumentException($"CacheBytes is {CacheBytes}; use a non-negative byte budget.", nameof(CacheBytes));
    }
}

/// <summary>
/// Puts a reward model to work: scores (prompt, response) pairs (raw, normalised and calibrated), ranks responses with
/// Plackett-Luce probabilities, compares two responses with the calibrated P(a ≻ b), and picks the best of n.
/// Thread-safe: concurrent calls share the model, the cache and (when given) a <see cref="MicroBatcher"/>.
/// </summary>
public sealed class RewardScorer
{
    readonly IRewardModel _model;
    readonly ITokenBatchScorer _forward;

    /// <summary>Wraps <paramref name="model"/> (not owned: the caller disposes it).</summary>
    /// <param name="model">The reward model.</param>
    /// <param name="options">Batching and cache options (defaults when null).</param>
    /// <param name="forward">Who runs the forward passes; by default the caller's thread with length buckets.</param>
    public RewardScorer(IRewardModel model, RewardScorerOptions? options = null, ITokenBatchScorer? forward = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Options = options ?? new RewardScorerOptions();
        Options.Validate();
        _model = model;
        var m = model.Metadata;
        if (!(m.RewardStd > 0) || !double.IsFinite(m.RewardStd))
            throw new InvalidDataException($"{RewardModelMetadata.FileName} of '{m.Name}': reward_std is {m.RewardStd}; it must be a positive number (use 1 when unknown).");
        if (!double.IsFinite(m.RewardMean))
            throw new InvalidDataException($"{RewardModelMetadata.FileName} of '{m.Name}': reward_mean is {m.RewardMean}; it must be a finite number (use 0 when unknown).");
        if (m.Temperature is { } t && !(t > 0 && double.IsFinite(t)))
            throw new InvalidDataException($"{RewardModelMetadata.FileName} of '{m.Name}': temperature is {t}; it must be > 0, or absent when the model is not calibrated.");
        Temperature = m.Temperature ?? 1.0;
        Cache = new ScoreCache(Options.CacheEntries, Options.CacheBytes);
        _forward = forward ?? new DirectTokenScorer(model, Options.BatchSize);
    }

    /// <summary>The options in force.</summary>
    public RewardScorerOptions Options { get; }

    /// <summary>The model's metadata.</summary>
    public RewardModelMetadata Metadata => _model.Metadata;

    /// <summary>The calibration temperature T (1 when the model is not calibrated).</summary>
    public double Temperature { get; }

    /// <summary>The content-hash score cache.</summary>
    public ScoreCache Cache { get; }

    /// <summary>The token ids the model scores for one pair.</summary>
    public int[] Encode(string prompt, string response) => _model.Encode(prompt, response);

    /// <summary>Raw, normalised and calibrated forms of a raw reward.</summary>
    public RewardScore ToScore(double raw)
    {
        var z = (raw - Metadata.RewardMean) / Metadata.RewardStd;
        return new RewardScore(raw, z, Activations.Sigmoid((raw - Metadata.RewardMean) / Temperature));
    }

    /// <summary>Scores pairs (cached ones are not rescored; the rest go to the forward passes together).</summary>
    public async ValueTask<RewardScore[]> ScoreAsync(IReadOnlyList<ScoringItem> items, CancellationToken cancellationToken = default)
    {
        var raw = await ScoreRawAsync(items, cancellationToken).ConfigureAwait(false);
        var scores = new RewardScore[raw.Length];
        for (var i = 0; i < raw.Length; i++) scores[i] = ToScore(raw[i]);
        return scores;
    }

    /// <summary>Scores pairs synchronously (see <see cref="ScoreAsync"/>).</summary>
    public RewardScore[] Score(IReadOnlyList<ScoringItem> items, CancellationToken cancellationToken = default) =>
        ScoreAsync(items, cancellationToken).AsTask().GetAwaiter().GetResult();

    /// <summary>Scores one pair.</summary>
    public RewardScore Score(string prompt, string response, CancellationToken cancellationToken = default) =>
        Score([new ScoringItem(prompt, response)], cancellationToken)[0];

    /// <summary>Raw rewards of pairs, in order.</summary>
    public async ValueTask<float[]> ScoreRawAsync(IReadOnlyList<ScoringItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var rewards = new float[items.Count];
        var keys = new CacheKey[items.Count];
        var missing = new List<int>();
        for (var i = 0; i < items.Count; i++)
        {
            var (prompt, response) = items[i];
            if (prompt is null) throw new ArgumentException($"items[{i}].prompt is null; send a string (\"\" for no prompt).", nameof(items));
            if (response is null) throw new ArgumentException($"items[{i}].response is null; send the response text as a string.", nameof(items));
            keys[i] = ScoreCache.KeyOf(Metadata.Version, Metadata.Template, prompt, response);
            if (!Cache.TryGet(keys[i], out rewards[i])) missing.Add(i);
        }
        if (missing.Count == 0) return rewards;
        var sequences = new int[missing.Count][];
        for (var j = 0; j < missing.Count; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sequences[j] = _model.Encode(items[missing[j]].Prompt, items[missing[j]].Response);
        }
        var computed = await _forward.ScoreAsync(sequences, cancellationToken).ConfigureAwait(false);
        for (var j = 0; j < missing.Count; j++)
            if (!float.IsFinite(computed[j])) throw new NonFiniteRewardException(missing[j], computed[j], Metadata.Name);
        for (var j = 0; j < missing.Count; j++)
        {
            rewards[missing[j]] = computed[j];
            Cache.Set(keys[missing[j]], computed[j]);
        }
        return rewards;
    }

    /// <summary>
    /// For an ensemble (<see cref="IUncertainRewardModel"/>): each pair's raw reward and the standard deviation of the
    /// members' rewards, in one pass of every member (not cached); for any other model the raw rewards and null.
    /// </summary>
    public async ValueTask<(float[] Rewards, float[]? Std)> ScoreRawWithStdAsync(IReadOnlyList<ScoringItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (_model is not IUncertainRewardModel ensemble) return (await ScoreRawAsync(items, cancellationToken).ConfigureAwait(false), null);
        var sequences = new int[items.Count][];
        for (var i = 0; i < items.Count; i++)
        {
            var (prompt, response) = items[i];
            if (prompt is null || response is null) throw new ArgumentException($"items[{i}]: the prompt and the response must be strings.", nameof(items));
            sequences[i] = _model.Encode(prompt, response);
        }
        var rewards = new float[items.Count];
        var std = new float[items.Count];
        ensemble.ScoreWithStd(sequences, rewards, std, cancellationToken);
        for (var i = 0; i < rewards.Length; i++)
            if (!float.IsFinite(rewards[i]) || !float.IsFinite(std[i])) throw new NonFiniteRewardException(i, float.IsFinite(rewards[i]) ? std[i] : rewards[i], Metadata.Name);
        return (rewards, std);
    }

    /// <summary>
    /// Ranks the responses to <paramref name="prompt"/> from best to worst (ties keep input order), each with the
    /// Plackett-Luce probability that it is the best: softmax(r / T).
    /// </summary>
    public async ValueTask<RankedResponse[]> RankAsync(string prompt, IReadOnlyList<string> responses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(responses);
        if (responses.Count == 0) throw new ArgumentException("responses is empty; send at least one response to rank.", nameof(responses));
        var items = new ScoringItem[responses.Count];
        for (var i = 0; i < items.Length; i++) items[i] = new ScoringItem(prompt, responses[i]);
        var scores = await ScoreAsync(items, cancellationToken).ConfigureAwait(false);
        var probabilities = ProbabilityBest(scores.Select(s => s.Raw).ToArray(), Temperature);
        var ranked = new RankedResponse[scores.Length];
        for (var i = 0; i < ranked.Length; i++) ranked[i] = new RankedResponse(i, scores[i], probabilities[i]);
        Array.Sort(ranked, (x, y) => x.Score.Raw != y.Score.Raw ? y.Score.Raw.CompareTo(x.Score.Raw) : x.Index.CompareTo(y.Index));
        return ranked;
    }

    /// <summary>Compares two responses: calibrated P(a ≻ b) = σ((r_a − r_b) / T).</summary>
    public async ValueTask<Comparison> CompareAsync(string prompt, string a, string b, CancellationToken cancellationToken = default)
    {
        var scores = await ScoreAsync([new ScoringItem(prompt, a), new ScoringItem(prompt, b)], cancellationToken).ConfigureAwait(false);
        return new Comparison(scores[0], scores[1], Activations.Sigmoid((scores[0].Raw - scores[1].Raw) / Temperature), Temperature);
    }

    /// <summary>The best of n responses (the first of equals): "score each response and choose the highest".</summary>
    public async ValueTask<RankedResponse> BestOfNAsync(string prompt, IReadOnlyList<string> responses, CancellationToken cancellationToken = default) =>
        (await RankAsync(prompt, responses, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Plackett-Luce probability that each item is ranked first: softmax(rewards / T), computed stably.</summary>
    public static double[] ProbabilityBest(ReadOnlySpan<double> rewards, double temperature)
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "the temperature must be > 0.");
        var p = new double[rewards.Length];
        if (p.Length == 0) return p;
        var max = double.NegativeInfinity;
        foreach (var r in rewards) max = Math.Max(max, r);
        var sum = 0.0;
        for (var i = 0; i < p.Length; i++) sum += p[i] = Math.Exp((rewards[i] - max) / temperature);
        for (var i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

}

/// <summary>
/// The model gave a NaN or infinite reward (its weights, or an overflow inside the forward pass for this input): no
/// reward is reported, cached or written, since no consumer can use it and JSON cannot carry it. The CLI reports it as
/// an error about the model (exit 1, no stack trace); the service answers 422.
/// </summary>
/// <param name="index">The position of the item among those scored together.</param>
/// <param name="value">The reward the model gave.</param>
/// <param name="model">The model's name.</param>
public sealed class NonFiniteRewardException(int index, float value, string model)
    : Exception($"model '{model}' gave a non-finite reward ({value}) for item {index}; the model cannot score this input "
        + "(an overflow in its forward pass, or corrupt weights). No reward was reported; check the model (its weights are checked for NaN/Inf when loaded) or the input.")
{
    /// <summary>The position of the item in the request.</summary>
    public int Index { get; } = index;

    /// <summary>The reward the model gave (NaN or ±∞).</summary>
    public float Value { get; } = value;
}
