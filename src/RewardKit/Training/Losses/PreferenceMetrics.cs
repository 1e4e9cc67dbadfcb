namespace RewardKit.Training.Losses;

/// <summary>TRL's reward-trainer metrics over a batch of pairs.</summary>
/// <param name="Accuracy">Fraction of pairs with r_w &gt; r_l (ties count one half) (TRL <c>accuracy</c>).</param>
/// <param name="Margin">Mean of r_w − r_l (TRL <c>margin</c>).</param>
/// <param name="MeanReward">Mean of all 2N rewards (TRL <c>mean_reward</c>).</param>
public sealed record PreferenceMetrics(double Accuracy, double Margin, double MeanReward)
{
    /// <summary>The metrics of paired rewards.</summary>
    public static PreferenceMetrics Compute(ReadOnlySpan<float> chosen, ReadOnlySpan<float> rejected)
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
        return new PreferenceMetrics(correct / n, margin / n, sum / (2.0 * n));
    }
}
