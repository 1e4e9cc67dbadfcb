namespace RewardKit.Inference;

/// <summary>
/// One scored (prompt, response) pair in the three forms RewardKit reports.
/// </summary>
/// <param name="Raw">The model's raw reward r.</param>
/// <param name="Normalized">The z-score (r − mean) / std with the training mean and std from <c>rewardkit.json</c>.</param>
/// <param name="Calibrated">
/// σ((r − mean) / T): the calibrated probability that this response is preferred to a reference response whose reward
/// is the training mean (T from temperature scaling, 1 when the model is not calibrated).
/// </param>
public readonly record struct RewardScore(double Raw, double Normalized, double Calibrated);

/// <summary>One response of a ranking.</summary>
/// <param name="Index">Position of the response in the input.</param>
/// <param name="Score">Its reward.</param>
/// <param name="ProbabilityBest">Plackett-Luce probability that it is the best: softmax over rewards / T.</param>
public readonly record struct RankedResponse(int Index, RewardScore Score, double ProbabilityBest);

/// <summary>The outcome of comparing two responses to one prompt.</summary>
/// <param name="A">Reward of response a.</param>
/// <param name="B">Reward of response b.</param>
/// <param name="ProbabilityAPreferred">Calibrated P(a ≻ b) = σ((r_a − r_b) / T).</param>
/// <param name="Temperature">The temperature T used (1 when the model is not calibrated).</param>
public readonly record struct Comparison(RewardScore A, RewardScore B, double ProbabilityAPreferred, double Temperature);

/// <summary>A (prompt, response) pair to score.</summary>
/// <param name="Prompt">The prompt (the conversation so far).</param>
/// <param name="Response">The response to score.</param>
public readonly record struct ScoringItem(string Prompt, string Response);
