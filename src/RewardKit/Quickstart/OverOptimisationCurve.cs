using System.Text.Json.Serialization;

namespace RewardKit.Quickstart;

/// <summary>One point of an over-optimisation curve: a policy's mean held-out proxy and gold reward at its KL to the starting policy.</summary>
/// <param name="Label">What the point is: "step 40" of PPO, "n = 16" of best-of-n.</param>
/// <param name="Kl">KL to the starting (SFT) policy in nats: PPO's held-out estimate, best-of-n's analytic log n − (n−1)/n.</param>
/// <param name="ProxyReward">Mean reward-model score of the held-out responses.</param>
/// <param name="GoldReward">Mean gold reward of the same responses (the world's judge).</param>
/// <param name="Step">PPO step (null for best-of-n).</param>
/// <param name="N">Best-of-n's n (null for PPO).</param>
public sealed record CurvePoint(
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("kl")] double Kl,
    [property: JsonPropertyName("proxy_reward")] double ProxyReward,
    [property: JsonPropertyName("gold_reward")] double GoldReward,
    [property: JsonPropertyName("step")] long? Step = null,
    [property: JsonPropertyName("n")] int? N = null)
{
    /// <summary>√KL (Gao et al. 2023's x axis; a negative KL estimate counts as 0).</summary>
    [JsonPropertyName("sqrt_kl")]
    public double SqrtKl => Math.Sqrt(Math.Max(0, Kl));
}

/// <summary>
/// Gold and proxy reward against √KL for one way of optimising (PPO checkpoints, best-of-n), in order of optimisation, and
/// where gold reward stops rising while proxy reward still rises: the point of highest gold reward, when a later point has
/// a higher proxy reward and a gold reward lower by more than <see cref="Tolerance"/> (otherwise gold only levels off
/// within noise, or keeps rising).
/// </summary>
public sealed record OverOptimisationCurve
{
    /// <summary>A curve from its points, in order of optimisation.</summary>
    public OverOptimisationCurve(string method, IReadOnlyList<CurvePoint> points, double tolerance = 0.05)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentOutOfRangeException.ThrowIfNegative(tolerance);
        Method = method;
        Points = points;
        Tolerance = tolerance;
        if (points.Count == 0) return;
        int peak = 0;
        for (int i = 1; i < points.Count; i++)
            if (points[i].GoldReward > points[peak].GoldReward) peak = i;
        GoldPeak = points[peak];
        OverOptimised = points.Skip(peak + 1).Any(p => p.ProxyReward > points[peak].ProxyReward && p.GoldReward < points[peak].GoldReward - tolerance);
    }

    /// <summary>"ppo" or "best_of_n".</summary>
    [JsonPropertyName("method")] public string Method { get; }

    /// <summary>The points, in order of optimisation (rising KL for best-of-n, steps for PPO).</summary>
    [JsonPropertyName("points")] public IReadOnlyList<CurvePoint> Points { get; }

    /// <summary>How far gold must fall below its peak (with proxy above the peak's) to count as over-optimisation.</summary>
    [JsonPropertyName("tolerance")] public double Tolerance { get; }

    /// <summary>The point of highest gold reward (null without points).</summary>
    [JsonPropertyName("gold_peak")] public CurvePoint? GoldPeak { get; }

    /// <summary>True when, after <see cref="GoldPeak"/>, proxy reward rose further while gold reward fell by more than the tolerance.</summary>
    [JsonPropertyName("over_optimised")] public bool OverOptimised { get; }
}
