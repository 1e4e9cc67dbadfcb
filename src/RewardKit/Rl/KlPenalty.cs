// Shapes as in Advantages.cs: (B·R) per-token grids with `lengths[b]` real cells in row b.
namespace RewardKit.Rl;

/// <summary>How the per-token KL divergence to the reference policy is estimated from one sampled token (Schulman's notes).</summary>
public enum KlEstimator
{
    /// <summary>k1 = log π(a) − log π_ref(a): unbiased, high variance, can be negative per token (TRL's default).</summary>
    K1,

    /// <summary>k3 = (ρ − 1) − log ρ with ρ = π_ref(a)/π(a): unbiased, non-negative, lower variance.</summary>
    K3,
}

/// <summary>
/// The per-token KL penalty of RLHF (Ziegler et al. 2019; Ouyang et al. 2022) and the token rewards it makes:
/// rₜ = −β·klₜ at every response token, plus the reward model's score at the last one.
/// </summary>
public static class KlPenalty
{
    /// <summary>One token's KL estimate from its log-probs under the policy and under the reference.</summary>
    public static double Estimate(KlEstimator estimator, double logProb, double referenceLogProb)
    {
        double logRatio = logProb - referenceLogProb;   // log π − log π_ref
        return estimator switch
        {
            KlEstimator.K1 => logRatio,
            KlEstimator.K3 => Math.Exp(-logRatio) - 1 + logRatio,
            _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "use K1 or K3."),
        };
    }

    /// <summary>The (B·R) per-token KL estimates; padding cells are 0.</summary>
    public static float[] PerToken(KlEstimator estimator, ReadOnlySpan<float> logProbs, ReadOnlySpan<float> referenceLogProbs,
        ReadOnlySpan<int> lengths, int width)
    {
        if (logProbs.Length != lengths.Length * width || referenceLogProbs.Length != logProbs.Length)
            throw new ArgumentException($"KlPenalty: log-prob grids of {logProbs.Length} and {referenceLogProbs.Length} cells for {lengths.Length} rows of width {width}.");
        var kl = new float[logProbs.Length];
        for (int b = 0; b < lengths.Length; b++)
            for (int t = 0; t < lengths[b]; t++)
            {
                int i = b * width + t;
                kl[i] = (float)Estimate(estimator, logProbs[i], referenceLogProbs[i]);
            }
        return kl;
    }

    /// <summary>
    /// Token rewards: −<paramref name="beta"/>·klₜ at every real token, plus <paramref name="scores"/>[b] at row b's last
    /// token (TRL's PPO). A row with no tokens gets nothing.
    /// </summary>
    /// <param name="kl">(B·R) per-token KL estimates.</param>
    /// <param name="scores">(B) sequence-level rewards (after scaling and penalties).</param>
    /// <param name="lengths">(B) response tokens per row.</param>
    /// <param name="width">R.</param>
    /// <param name="beta">The KL coefficient β ≥ 0.</param>
    public static float[] TokenRewards(ReadOnlySpan<float> kl, ReadOnlySpan<float> scores, ReadOnlySpan<int> lengths, int width, double beta)
    {
        if (kl.Length != lengths.Length * width || scores.Length != lengths.Length)
            throw new ArgumentException($"KlPenalty: {kl.Length} KL cells and {scores.Length} scores for {lengths.Length} rows of width {width}.");
        var rewards = new float[kl.Length];
        for (int b = 0; b < lengths.Length; b++)
        {
            for (int t = 0; t < lengths[b]; t++) rewards[b * width + t] = (float)(-beta * kl[b * width + t]);
            if (lengths[b] > 0) rewards[b * width + lengths[b] - 1] += scores[b];
        }
        return rewards;
    }

    /// <summary>Σₜ klₜ of each row: the sequence-level KL (TRL's <c>objective/kl</c> averages it over rows).</summary>
    public static float[] PerSequence(ReadOnlySpan<float> kl, ReadOnlySpan<int> lengths, int width)
    {
        var sums = new float[lengths.Length];
        for (int b = 0; b < lengths.Length; b++)
        {
            double s = 0;
            for (int t = 0; t < lengths[b]; t++) s += kl[b * width + t];
            sums[b] = (float)s;
        }
        return sums;
    }
}

/// <summary>
/// The KL coefficient β, fixed or adapted toward a target KL (Ziegler et al. 2019, §2.2): after each batch,
/// e = clip(KL/target − 1, −0.2, 0.2) and β ← β·(1 + e·n/horizon), n the batch's sequences.
/// </summary>
public sealed class KlController
{
    /// <summary>A controller starting at <paramref name="initial"/>; with <paramref name="target"/> null β stays fixed.</summary>
    /// <param name="initial">β at the start (≥ 0).</param>
    /// <param name="target">Target sequence KL in nats, or null for a fixed β.</param>
    /// <param name="horizon">Sequences over which β may change by about e (Ziegler's 10,000).</param>
    public KlController(double initial, double? target = null, double horizon = 10_000)
    {
        if (!(initial >= 0) || !double.IsFinite(initial)) throw new ArgumentOutOfRangeException(nameof(initial), initial, "the KL coefficient must be a finite number ≥ 0.");
        if (target is { } t && !(t > 0)) throw new ArgumentOutOfRangeException(nameof(target), t, "the target KL must be > 0 (or absent for a fixed coefficient).");
        if (!(horizon > 0)) throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "the horizon must be > 0.");
        Value = initial;
        Target = target;
        Horizon = horizon;
    }

    /// <summary>The current β.</summary>
    public double Value { get; set; }

    /// <summary>The target KL, or null when β is fixed.</summary>
    public double? Target { get; }

    /// <summary>The adaptation horizon in sequences.</summary>
    public double Horizon { get; }

    /// <summary>Moves β toward the target after a batch of <paramref name="sequences"/> whose mean sequence KL was <paramref name="kl"/>.</summary>
    public void Update(double kl, int sequences)
    {
        if (Target is not { } target || !double.IsFinite(kl)) return;
        double error = Math.Clamp(kl / target - 1, -0.2, 0.2);
        Value *= 1 + error * sequences / Horizon;
    }
}
