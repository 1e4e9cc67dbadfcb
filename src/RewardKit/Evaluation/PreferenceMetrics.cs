using RewardKit.Tensors.Kernels;

namespace RewardKit.Evaluation;

/// <summary>
/// Pure metrics over reward margins Δ_i = r_chosen,i − r_rejected,i. The model's probability that the labelled chosen
/// response is preferred is p_i = σ(Δ_i / T).
/// </summary>
public static class PreferenceMetrics
{
    /// <summary>TRL's reward-trainer metrics (<c>accuracy</c>, <c>margin</c>, <c>mean_reward</c>) of paired rewards.</summary>
    public static PairedRewardMetrics Compute(ReadOnlySpan<float> chosen, ReadOnlySpan<float> rejected)
    {
        if (chosen.Length != rejected.Length) throw new ArgumentException($"PreferenceMetrics: {chosen.Length} chosen and {rejected.Length} rejected rewards.");
        if (chosen.Length == 0) throw new ArgumentException("PreferenceMetrics: no pairs.");
        double correct = 0, margin = 0, sum = 0;
        for (int i = 0; i < chosen.Length; i++)
        {
            correct += chosen[i] > rejected[i] ? 1 : chosen[i] == rejected[i] ? 0.5 : 0;
            margin += chosen[i] - (double)rejected[i];
            sum += chosen[i] + (double)rejected[i];
        }
        int n = chosen.Length;
        return new PairedRewardMetrics(correct / n, margin / n, sum / (2.0 * n));
    }

    /// <summary>Accuracy = (1/n) Σ [Δ_i &gt; 0] + ½ [Δ_i = 0] (ties count half).</summary>
    public static double Accuracy(ReadOnlySpan<double> margins)
    {
        RequireNonEmpty(margins.Length);
        double s = 0;
        foreach (var d in margins) s += d > 0 ? 1 : d == 0 ? 0.5 : 0;
        return s / margins.Length;
    }

    /// <summary>Bradley-Terry log loss = −(1/n) Σ log σ(Δ_i / T).</summary>
    public static double LogLoss(ReadOnlySpan<double> margins, double temperature = 1)
    {
        RequireNonEmpty(margins.Length);
        RequireTemperature(temperature);
        double s = 0;
        foreach (var d in margins) s -= Activations.LogSigmoid(d / temperature);
        return s / margins.Length;
    }

    /// <summary>Brier score = (1/n) Σ (σ(Δ_i / T) − 1)² (the label "chosen preferred" is always 1).</summary>
    public static double Brier(ReadOnlySpan<double> margins, double temperature = 1)
    {
        RequireNonEmpty(margins.Length);
        RequireTemperature(temperature);
        double s = 0;
        foreach (var d in margins) { var e = 1 - Activations.Sigmoid(d / temperature); s += e * e; }
        return s / margins.Length;
    }

    /// <summary>Brier score of probabilities against binary outcomes: (1/n) Σ (p_i − y_i)² (sklearn's brier_score_loss).</summary>
    public static double Brier(ReadOnlySpan<double> probabilities, ReadOnlySpan<int> outcomes)
    {
        RequireNonEmpty(probabilities.Length);
        if (probabilities.Length != outcomes.Length) throw new ArgumentException("probabilities and outcomes differ in length.");
        double s = 0;
        for (int i = 0; i < probabilities.Length; i++) { var e = probabilities[i] - outcomes[i]; s += e * e; }
        return s / probabilities.Length;
    }

    /// <summary>Binary log loss −(1/n) Σ y log p + (1−y) log(1−p), p clipped to [1e-15, 1−1e-15] (sklearn's log_loss).</summary>
    public static double LogLoss(ReadOnlySpan<double> probabilities, ReadOnlySpan<int> outcomes)
    {
        RequireNonEmpty(probabilities.Length);
        if (probabilities.Length != outcomes.Length) throw new ArgumentException("probabilities and outcomes differ in length.");
        double s = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            var p = Math.Clamp(probabilities[i], 1e-15, 1 - 1e-15);
            s -= outcomes[i] == 1 ? Math.Log(p) : Math.Log(1 - p);
        }
        return s / probabilities.Length;
    }

    /// <summary>Reward gap = mean(r_chosen) − mean(r_rejected) = mean(Δ).</summary>
    public static double RewardGap(ReadOnlySpan<double> margins)
    {
        RequireNonEmpty(margins.Length);
        double s = 0;
        foreach (var d in margins) s += d;
        return s / margins.Length;
    }

    /// <summary>Summary statistics (mean, sample std, min, median, max) of a reward vector.</summary>
    public static RewardStatistics Statistics(ReadOnlySpan<double> rewards)
    {
        RequireNonEmpty(rewards.Length);
        var a = rewards.ToArray();
        Array.Sort(a);
        double mean = 0;
        foreach (var r in a) mean += r;
        mean /= a.Length;
        double ss = 0;
        foreach (var r in a) ss += (r - mean) * (r - mean);
        var std = a.Length > 1 ? Math.Sqrt(ss / (a.Length - 1)) : 0;
        var median = a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
        return new RewardStatistics(a.Length, mean, std, a[0], median, a[^1]);
    }

    internal static void RequireNonEmpty(int n)
    {
        if (n == 0) throw new ArgumentException("no pairs to evaluate: the input is empty; check the data file and filters.");
    }

    internal static void RequireTemperature(double t)
    {
        if (!(t > 0) || double.IsInfinity(t)) throw new ArgumentException($"temperature must be a finite number > 0 (got {t}).");
    }
}

/// <summary>Summary of a reward vector.</summary>
public sealed record RewardStatistics(int Count, double Mean, double Std, double Min, double Median, double Max);
