namespace RewardKit.Evaluation;

/// <summary>Model scores against human ranks for one prompt (rank 1 = best) .</summary>
public sealed record ScoredRanking(string GroupId, double[] Scores, double[] HumanRanks);

/// <summary>Agreement of model scores with rankings and ratings.</summary>
public static class RankingMetrics
{
    /// <summary>
    /// Per-prompt Spearman ρ and Kendall τ-b between scores and −rank (higher score should mean better rank), averaged over
    /// prompts whose correlation is defined (at least 2 responses, not all tied). Returns (mean ρ, mean τ, prompts used).
    /// </summary>
    public static (double Spearman, double KendallTauB, int Prompts) Rankings(IReadOnlyList<ScoredRanking> rankings)
    {
        double rho = 0, tau = 0; int used = 0;
        foreach (var r in rankings)
        {
            if (r.Scores.Length != r.HumanRanks.Length) throw new ArgumentException($"ranking '{r.GroupId}': {r.Scores.Length} scores but {r.HumanRanks.Length} ranks.");
            if (r.Scores.Length < 2) continue;
            var neg = r.HumanRanks.Select(x => -x).ToArray();
            double s = Correlation.Spearman(r.Scores, neg), k = Correlation.KendallTauB(r.Scores, neg);
            if (double.IsNaN(s) || double.IsNaN(k)) continue;
            rho += s; tau += k; used++;
        }
        return used == 0 ? (double.NaN, double.NaN, 0) : (rho / used, tau / used, used);
    }

    /// <summary>Pearson and Spearman between rewards and human ratings.</summary>
    public static (double Pearson, double Spearman) Ratings(ReadOnlySpan<double> rewards, ReadOnlySpan<double> ratings) =>
        (Correlation.Pearson(rewards, ratings), Correlation.Spearman(rewards, ratings));
}
