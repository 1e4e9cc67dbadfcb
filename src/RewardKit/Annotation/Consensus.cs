namespace RewardKit.Annotation;

/// <summary>The annotators' joint answer to a pairwise task.</summary>
/// <param name="Choice">The plurality of A / B / tie; a tie for first place is a tie.</param>
/// <param name="Agreement">The share of annotators whose choice is <paramref name="Choice"/>.</param>
/// <param name="Margin">
/// (Σ strength of votes for the winner − Σ strength of votes for the loser) / (3 n), at least 0: 1 when everyone says
/// "much better", smaller when votes are weaker or split; 0 for a tie.
/// </param>
public sealed record PairConsensus(PairChoice Choice, double Agreement, double Margin);

/// <summary>The annotators' joint ranking of a task's responses.</summary>
/// <param name="Ranks">0 = best; responses with equal mean rank share a rank (a tie).</param>
/// <param name="MeanRanks">Each response's mean rank (1 = best) over the annotators.</param>
/// <param name="Agreement">Over every pair of responses, the share of annotators who order it as the majority does, averaged (0.5 … 1).</param>
public sealed record RankingConsensus(IReadOnlyList<int> Ranks, IReadOnlyList<double> MeanRanks, double Agreement);

/// <summary>How several annotators' labels of one task become one training record.</summary>
public static class Consensus
{
    /// <summary>The joint answer of the pairwise <paramref name="labels"/> (at least one) of one task.</summary>
    public static PairConsensus Pairwise(IReadOnlyList<AnnotationLabel> labels)
    {
        RequireSome(labels);
        int Count(PairChoice c) => labels.Count(l => l.Answer.Choice == c);
        int a = Count(PairChoice.A), b = Count(PairChoice.B), tie = Count(PairChoice.Tie);
        int top = Math.Max(a, Math.Max(b, tie));
        int leaders = (a == top ? 1 : 0) + (b == top ? 1 : 0) + (tie == top ? 1 : 0);
        var choice = leaders > 1 ? PairChoice.Tie : a == top ? PairChoice.A : b == top ? PairChoice.B : PairChoice.Tie;
        double agreement = Count(choice) / (double)labels.Count;
        if (choice == PairChoice.Tie) return new PairConsensus(choice, agreement, 0);
        var loser = choice == PairChoice.A ? PairChoice.B : PairChoice.A;
        double net = labels.Sum(l => l.Answer.Choice == choice ? l.Answer.Strength : l.Answer.Choice == loser ? -l.Answer.Strength : 0);
        return new PairConsensus(choice, agreement, Math.Max(0, net / (AnnotationLimits.MaxStrength * labels.Count)));
    }

    /// <summary>The joint ranking of the ranking <paramref name="labels"/> (at least one) of one task with <paramref name="responses"/> responses.</summary>
    public static RankingConsensus Ranking(IReadOnlyList<AnnotationLabel> labels, int responses)
    {
        RequireSome(labels);
        var sums = new int[responses];
        foreach (var l in labels)
            for (int i = 0; i < responses; i++) sums[i] += l.Answer.Ranks![i];
        var distinct = sums.Distinct().Order().ToList();
        var ranks = sums.Select(s => distinct.IndexOf(s)).ToArray();
        double agreement = 0;
        int pairs = 0;
        for (int i = 0; i < responses; i++)
            for (int j = i + 1; j < responses; j++)
            {
                int before = labels.Count(l => l.Answer.Ranks![i] < l.Answer.Ranks![j]);
                agreement += Math.Max(before, labels.Count - before) / (double)labels.Count;
                pairs++;
            }
        return new RankingConsensus(ranks, sums.Select(s => s / (double)labels.Count).ToArray(), pairs == 0 ? 1 : agreement / pairs);
    }

    /// <summary>Each response's mean rating over the rating <paramref name="labels"/> (at least one) of one task.</summary>
    public static IReadOnlyList<double> MeanRatings(IReadOnlyList<AnnotationLabel> labels, int responses)
    {
        RequireSome(labels);
        return Enumerable.Range(0, responses).Select(i => labels.Average(l => (double)l.Answer.Ratings![i])).ToArray();
    }

    static void RequireSome(IReadOnlyList<AnnotationLabel> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0) throw new ArgumentException("Consensus: a task needs at least one label.", nameof(labels));
    }
}
