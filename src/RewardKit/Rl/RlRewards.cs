using System.Text.Json.Serialization;
using RewardKit.Inference;

namespace RewardKit.Rl;

/// <summary>The running statistics a <see cref="RlRewards"/> keeps for its scaling (part of a checkpoint).</summary>
public sealed record RewardScalingState
{
    /// <summary>Scores seen.</summary>
    [JsonPropertyName("count")] public long Count { get; set; }

    /// <summary>Their mean.</summary>
    [JsonPropertyName("mean")] public double Mean { get; set; }

    /// <summary>Σ (s − mean)² (Welford).</summary>
    [JsonPropertyName("m2")] public double M2 { get; set; }

    /// <summary>The smallest score seen.</summary>
    [JsonPropertyName("min")] public double Min { get; set; } = double.PositiveInfinity;

    /// <summary>The largest score seen.</summary>
    [JsonPropertyName("max")] public double Max { get; set; } = double.NegativeInfinity;
}

/// <summary>
/// The RL reward of a batch of (prompt, response) texts: every reward model scores the decoded text with its own
/// tokenizer and template (so the policy's tokenizer may differ), the raw scores are combined with weights, then scaled
/// (running z-score, min-max, log), clipped, and penalised for length and for a missing EOS.
/// </summary>
public sealed class RlRewards
{
    readonly IReadOnlyList<RewardScorer> _scorers;
    readonly double[] _weights;
    readonly RlOptions _options;

    /// <summary>Rewards from <paramref name="scorers"/> combined with <see cref="RlOptions.RewardWeights"/> (default equal weights).</summary>
    public RlRewards(IReadOnlyList<RewardScorer> scorers, RlOptions options)
    {
        ArgumentNullException.ThrowIfNull(scorers);
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (scorers.Count == 0) throw new ArgumentException("RL needs at least one reward model (--reward-model DIR).", nameof(scorers));
        var weights = options.RewardWeights ?? [.. scorers.Select(_ => 1.0 / scorers.Count)];
        if (weights.Count != scorers.Count)
            throw new ArgumentException($"--weights: {weights.Count} weights for {scorers.Count} reward models; give one weight per --reward-model.", "--weights");
        if (weights.Any(w => !double.IsFinite(w))) throw new ArgumentException("--weights: every weight must be a finite number.", "--weights");
        _scorers = scorers;
        _weights = [.. weights];
    }

    /// <summary>The running statistics of the scaling.</summary>
    public RewardScalingState State { get; set; } = new();

    /// <summary>The weighted sum of the reward models' raw scores of each (prompt, response) (no scaling): the proxy reward.</summary>
    public float[] Proxy(IReadOnlyList<ScoringItem> items, CancellationToken cancellationToken = default)
    {
        var combined = new float[items.Count];
        for (int m = 0; m < _scorers.Count; m++)
        {
            var raw = _scorers[m].ScoreRawAsync(items, cancellationToken).AsTask().GetAwaiter().GetResult();
            for (int i = 0; i < raw.Length; i++) combined[i] += (float)(_weights[m] * raw[i]);
        }
        return combined;
    }

    /// <summary>
    /// The RL reward of each sample from its proxy score: scaled (after the running statistics take in this batch), clipped,
    /// minus <see cref="RlOptions.LengthPenalty"/>·tokens and, without EOS, <see cref="RlOptions.MissingEosPenalty"/>.
    /// </summary>
    /// <param name="proxy">(N) combined raw scores.</param>
    /// <param name="tokens">(N) response tokens.</param>
    /// <param name="endedWithEos">(N) whether each response stopped at EOS.</param>
    public float[] Shape(ReadOnlySpan<float> proxy, ReadOnlySpan<int> tokens, ReadOnlySpan<bool> endedWithEos)
    {
        foreach (var s in proxy) Observe(s);
        var rewards = new float[proxy.Length];
        for (int i = 0; i < proxy.Length; i++)
        {
            double r = Scale(proxy[i]);
            if (_options.RewardClip is { } c) r = Math.Clamp(r, -c, c);
            r -= _options.LengthPenalty * tokens[i];
            if (!endedWithEos[i] && _options.MissingEosPenalty is { } p) r -= p;
            rewards[i] = (float)r;
        }
        return rewards;
    }

    double Scale(double s)
    {
        var st = State;
        return _options.RewardScaling switch
        {
            RewardScaling.None => s,
            RewardScaling.RunningZScore => st.Count < 2 ? s - st.Mean : (s - st.Mean) / Math.Sqrt(st.M2 / (st.Count - 1) + 1e-8),
            RewardScaling.MinMax => st.Max > st.Min ? (s - st.Min) / (st.Max - st.Min) : 0.5,
            RewardScaling.Log => Math.Sign(s) * Math.Log(1 + Math.Abs(s)),
            _ => throw new ArgumentOutOfRangeException(nameof(s), _options.RewardScaling, "unknown reward scaling."),
        };
    }

    void Observe(double s)
    {
        var st = State;
        st.Count++;
        double delta = s - st.Mean;
        st.Mean += delta / st.Count;
        st.M2 += delta * (s - st.Mean);
        st.Min = Math.Min(st.Min, s);
        st.Max = Math.Max(st.Max, s);
    }
}
