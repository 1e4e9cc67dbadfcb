namespace RewardKit.Evaluation;

/// <summary>TRL's reward-trainer metrics over a batch of pairs (<see cref="PreferenceMetrics.Compute"/>).</summary>
/// <param name="Accuracy">Fraction of pairs with r_w &gt; r_l (ties count one half) (TRL <c>accuracy</c>).</param>
/// <param name="Margin">Mean of r_w − r_l (TRL <c>margin</c>).</param>
/// <param name="MeanReward">Mean of all 2N rewards (TRL <c>mean_reward</c>).</param>
public sealed record PairedRewardMetrics(double Accuracy, double Margin, double MeanReward);
