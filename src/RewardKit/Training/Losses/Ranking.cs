using RewardKit.Tensors;

namespace RewardKit.Training.Losses;

/// <summary>
/// Losses over one ranked list of k responses, rewards given best first: r_1 ≥ r_2 ≥ … intended.
/// </summary>
public static class Ranking
{
    /// <summary>The seeds' adjacent-pairs loss Σ_i −log σ(r_i − r_{i+1}), shape (). <paramref name="rewards"/> (k ≥ 2), best first.</summary>
    public static Tensor AdjacentPairs(Tape tape, Tensor rewards)
    {
        int k = Require(rewards);
        var better = rewards.Slice(0, k - 1);
        var worse = rewards.Slice(1, k - 1);
        return tape.Scale(tape.Sum(tape.LogSigmoid(tape.Sub(better, worse))), -1f);
    }

    /// <summary>All pairs Σ_{i&lt;j} −log σ(r_i − r_j), shape (). <paramref name="rewards"/> (k ≥ 2), best first.</summary>
    public static Tensor AllPairs(Tape tape, Tensor rewards)
    {
        int k = Require(rewards);
        var row = rewards.Reshape(k, 1);                                  // r_i
        var col = rewards.Reshape(1, k);                                  // r_j
        var upper = tape.Zeros([k, k]);                                   // 1 where i < j
        for (int i = 0; i < k; i++) upper.Data.Slice(i * k + i + 1, k - i - 1).Fill(1f);
        return tape.Scale(tape.Sum(tape.Mul(tape.LogSigmoid(tape.Sub(row, col)), upper)), -1f);
    }

    /// <summary>
    /// Plackett-Luce listwise negative log-likelihood, tie-aware with Breslow's approximation, shape ():
    /// <code>loss = Σ_i [ log Σ_{j ∈ R(i)} exp(r_j) − r_i ]</code>
    /// where R(i) holds every response ranked at i's tie group or below. Without ties it is the exact Plackett-Luce
    /// likelihood −Σ_i log(exp(r_i) / Σ_{j ≥ i} exp(r_j)); a tied group shares one risk set instead of being ordered.
    /// </summary>
    /// <param name="tape">The tape recording the step.</param>
    /// <param name="rewards">(k) rewards, best first.</param>
    /// <param name="groups">(k) optional non-decreasing tie-group index of each response (equal = tied); default all distinct.</param>
    public static Tensor PlackettLuce(Tape tape, Tensor rewards, int[]? groups = null)
    {
        int k = Require(rewards);
        groups ??= Enumerable.Range(0, k).ToArray();
        if (groups.Length != k) throw new ArgumentException($"Ranking.PlackettLuce: {groups.Length} groups for {k} rewards.", nameof(groups));
        for (int i = 1; i < k; i++)
            if (groups[i] < groups[i - 1]) throw new ArgumentException($"Ranking.PlackettLuce: groups must be non-decreasing (best first); position {i} has {groups[i]} after {groups[i - 1]}.", nameof(groups));
        float shift = float.MinValue;                                     // log-sum-exp shift (a constant: no gradient)
        foreach (var r in rewards.Data) shift = Math.Max(shift, r);
        var risk = tape.Zeros([k, k]);                                    // risk[i, j] = 1 when j ∈ R(i)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                if (groups[j] >= groups[i]) risk.Data[i * k + j] = 1f;
        var expShifted = tape.Exp(tape.AddScalar(rewards, -shift)).Reshape(1, k);            // exp(r_j − c)
        var logRisk = tape.AddScalar(tape.Log(tape.Sum(tape.Mul(risk, expShifted), axis: 1)), shift); // (k) log Σ_R exp r_j
        return tape.Sum(tape.Sub(logRisk, rewards));
    }

    static int Require(Tensor rewards)
    {
        Shapes.RequireRank("Ranking", rewards, 1, "rewards");
        if (rewards.Length < 2) throw new ArgumentException($"Ranking: a ranking needs at least 2 responses, got {rewards.Length}.", nameof(rewards));
        return rewards.Length;
    }
}
