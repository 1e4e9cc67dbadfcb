// Shapes: B sequences, R the longest response; per-token arrays are (B·R) row-major, response token j of row b in
// cell b·R + j, with `lengths[b]` real tokens in each row (the layout of ResponseLogProbs).
namespace RewardKit.Rl;

/// <summary>
/// The advantage estimators of policy optimisation, on plain arrays (no tape: advantages are constants of the loss).
/// <list type="bullet">
/// <item><see cref="Gae"/>: generalised advantage estimation (Schulman et al. 2016) over each response's tokens, as
/// TRL's PPO trainer computes it (the value after the last token is 0).</item>
/// <item><see cref="Whiten"/>: masked standardisation of advantages (TRL's <c>masked_whiten</c>, unbiased variance).</item>
/// <item><see cref="LeaveOneOut"/>: RLOO's baseline (Ahmadian et al. 2024): each of the k samples of a prompt is judged
/// against the mean of the other k − 1.</item>
/// <item><see cref="MinusBatchMean"/> and <see cref="MovingAverageBaseline"/>: REINFORCE's simple baselines.</item>
/// </list>
/// </summary>
public static class Advantages
{
    /// <summary>
    /// GAE over each row's response tokens: δₜ = rₜ + γ·Vₜ₊₁ − Vₜ (V after the last token = 0), Aₜ = δₜ + γλ·Aₜ₊₁, and the
    /// returns Aₜ + Vₜ (the value targets). Padding cells of both outputs are 0.
    /// </summary>
    /// <param name="rewards">(B·R) per-token rewards (the score at the last token, −β·KL at every token).</param>
    /// <param name="values">(B·R) the value head's estimates at the rollout.</param>
    /// <param name="lengths">(B) response tokens per row.</param>
    /// <param name="width">R.</param>
    /// <param name="gamma">Discount γ (TRL's default 1).</param>
    /// <param name="lambda">GAE λ (TRL's default 0.95).</param>
    public static (float[] Advantages, float[] Returns) Gae(ReadOnlySpan<float> rewards, ReadOnlySpan<float> values,
        ReadOnlySpan<int> lengths, int width, double gamma, double lambda)
    {
        CheckGrid(rewards.Length, values.Length, lengths, width);
        var advantages = new float[rewards.Length];
        var returns = new float[rewards.Length];
        for (int b = 0; b < lengths.Length; b++)
        {
            double next = 0, nextValue = 0;
            for (int t = lengths[b] - 1; t >= 0; t--)
            {
                int i = b * width + t;
                double delta = rewards[i] + gamma * nextValue - values[i];
                next = delta + gamma * lambda * next;
                nextValue = values[i];
                advantages[i] = (float)next;
                returns[i] = (float)(next + values[i]);
            }
        }
        return (advantages, returns);
    }

    /// <summary>
    /// (x − mean) / √(var + 1e-8) over the real cells, with the unbiased variance, as TRL's <c>masked_whiten</c>; with
    /// <paramref name="shiftMean"/> false the mean is added back (rewards are whitened that way). Padding stays 0.
    /// </summary>
    /// <param name="values">(B·R) values to whiten in place.</param>
    /// <param name="lengths">(B) real cells per row.</param>
    /// <param name="width">R.</param>
    /// <param name="shiftMean">Subtract the mean (true) or keep it.</param>
    public static void Whiten(Span<float> values, ReadOnlySpan<int> lengths, int width, bool shiftMean = true)
    {
        CheckGrid(values.Length, values.Length, lengths, width);
        double sum = 0, count = 0;
        for (int b = 0; b < lengths.Length; b++)
            for (int t = 0; t < lengths[b]; t++) { sum += values[b * width + t]; count++; }
        if (count < 2) return;   // one value has no spread to divide by
        double mean = sum / count, squares = 0;
        for (int b = 0; b < lengths.Length; b++)
            for (int t = 0; t < lengths[b]; t++) { double d = values[b * width + t] - mean; squares += d * d; }
        double scale = 1 / Math.Sqrt(squares / (count - 1) + 1e-8);
        for (int b = 0; b < lengths.Length; b++)
            for (int t = 0; t < lengths[b]; t++)
            {
                int i = b * width + t;
                values[i] = (float)((values[i] - mean) * scale + (shiftMean ? 0 : mean));
            }
    }

    /// <summary>
    /// RLOO: for samples laid out as k consecutive completions of each prompt, Aᵢ = sᵢ − mean of the other k − 1 scores
    /// of the same prompt (= k/(k−1)·(sᵢ − mean of all k)).
    /// </summary>
    /// <param name="scores">(P·k) one sequence-level reward per sample, prompt-major.</param>
    /// <param name="k">Samples per prompt, at least 2.</param>
    public static float[] LeaveOneOut(ReadOnlySpan<float> scores, int k)
    {
        if (k < 2) throw new ArgumentOutOfRangeException(nameof(k), k, "RLOO needs at least 2 samples per prompt (rloo_k ≥ 2).");
        if (scores.Length % k != 0) throw new ArgumentException($"RLOO: {scores.Length} scores are not a whole number of groups of {k}.", nameof(scores));
        var advantages = new float[scores.Length];
        for (int start = 0; start < scores.Length; start += k)
        {
            double total = 0;
            for (int i = 0; i < k; i++) total += scores[start + i];
            for (int i = 0; i < k; i++)
                advantages[start + i] = (float)(scores[start + i] - (total - scores[start + i]) / (k - 1));
        }
        return advantages;
    }

    /// <summary>REINFORCE with the batch-mean baseline: Aᵢ = sᵢ − mean(s).</summary>
    /// <param name="scores">(N) sequence-level rewards.</param>
    public static float[] MinusBatchMean(ReadOnlySpan<float> scores)
    {
        double mean = 0;
        foreach (var s in scores) mean += s;
        mean /= Math.Max(1, scores.Length);
        var advantages = new float[scores.Length];
        for (int i = 0; i < scores.Length; i++) advantages[i] = (float)(scores[i] - mean);
        return advantages;
    }

    /// <summary>
    /// REINFORCE with an exponential moving average of past batch means as the baseline: Aᵢ = sᵢ − b, then
    /// b ← decay·b + (1 − decay)·mean(s) (the first batch sets b to its own mean first). Returns the advantages and the new
    /// baseline (which a checkpoint stores).
    /// </summary>
    /// <param name="scores">(N) sequence-level rewards.</param>
    /// <param name="baseline">The baseline so far, or null before the first batch.</param>
    /// <param name="decay">Weight of the old baseline, in [0, 1).</param>
    public static (float[] Advantages, double Baseline) MovingAverageBaseline(ReadOnlySpan<float> scores, double? baseline, double decay)
    {
        if (!(decay >= 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "the baseline decay must be in [0, 1).");
        double mean = 0;
        foreach (var s in scores) mean += s;
        mean /= Math.Max(1, scores.Length);
        double b = baseline ?? mean;
        var advantages = new float[scores.Length];
        for (int i = 0; i < scores.Length; i++) advantages[i] = (float)(scores[i] - b);
        return (advantages, decay * b + (1 - decay) * mean);
    }

    /// <summary>Spreads one advantage per sequence over its response tokens: cell (b, t) = <paramref name="perSequence"/>[b].</summary>
    /// <param name="perSequence">(B) advantages.</param>
    /// <param name="lengths">(B) response tokens per row.</param>
    /// <param name="width">R.</param>
    public static float[] Broadcast(ReadOnlySpan<float> perSequence, ReadOnlySpan<int> lengths, int width)
    {
        if (perSequence.Length != lengths.Length) throw new ArgumentException($"Advantages: {perSequence.Length} values for {lengths.Length} rows.", nameof(perSequence));
        var cells = new float[lengths.Length * width];
        for (int b = 0; b < lengths.Length; b++) cells.AsSpan(b * width, lengths[b]).Fill(perSequence[b]);
        return cells;
    }

    static void CheckGrid(int a, int b, ReadOnlySpan<int> lengths, int width)
    {
        if (a != lengths.Length * width || b != a)
            throw new ArgumentException($"Advantages: per-token arrays of {a} and {b} cells for {lengths.Length} rows of width {width}; each must hold B·R = {lengths.Length * width}.");
        foreach (var n in lengths)
            if (n < 0 || n > width) throw new ArgumentException($"Advantages: a row length of {n} outside [0, {width}].");
    }
}
