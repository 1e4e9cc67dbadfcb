using RewardKit.Data;
using RewardKit.Evaluation;
using RewardKit.IO;
using RewardKit.Inference;

namespace RewardKit.Tests.Evaluation;

public sealed class UncertaintyEvaluationTests
{
    /// <summary>P(score of a random positive > score of a random negative) + ½ P(equal), by enumerating every pair.</summary>
    static double BruteForce(double[] scores, bool[] positives)
    {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < scores.Length; i++)
            for (int j = 0; j < scores.Length; j++)
                if (positives[i] && !positives[j])
                {
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                    pairs++;
                }
        return wins / pairs;
    }

    [Fact]
    public void Auroc_equals_the_share_of_positive_negative_pairs_ranked_right_with_ties_half()
    {
        var rng = new Random(3);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = 2 + rng.Next(40);
            var scores = Enumerable.Range(0, n).Select(_ => (double)rng.Next(6)).ToArray();   // many ties
            var positives = Enumerable.Range(0, n).Select(i => i == 0 || (i != 1 && rng.Next(3) == 0)).ToArray();
            Assert.Equal(BruteForce(scores, positives), UncertaintyEvaluation.Auroc(scores, positives), 10);
        }
        Assert.Equal(1, UncertaintyEvaluation.Auroc([0.1, 0.2, 0.9], [false, false, true]));
        Assert.True(double.IsNaN(UncertaintyEvaluation.Auroc([0.1, 0.2], [true, true])));
    }

    /// <summary>An ensemble whose members agree on pairs whose chosen response says "good" and disagree (and err on average) otherwise.</summary>
    sealed class KnowsWhenItGuesses : IUncertainRewardModel
    {
        public RewardModelMetadata Metadata { get; } = new() { Name = "knows" };
        public int Members => 2;
        public int[] Encode(string prompt, string response) => [response.Contains("good") ? 1 : response.Contains("bad") ? 0 : 2];
        public void ScoreMembers(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default)
        {
            for (int i = 0; i < sequences.Count; i++)
                (rewards[2 * i], rewards[2 * i + 1]) = sequences[i][0] switch { 1 => (1f, 1f), 0 => (0f, 0f), _ => (-2f, 1.5f) };
        }
        public void ScoreWithStd(IReadOnlyList<int[]> sequences, Span<float> rewards, Span<float> std, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
        public void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
        public void Dispose() { }
    }

    [Fact]
    public void The_disagreement_of_an_ensemble_that_is_unsure_where_it_errs_predicts_its_errors_perfectly()
    {
        var pairs = new List<PreferencePair>();
        for (int i = 0; i < 10; i++) pairs.Add(new PreferencePair { Prompt = $"p{i}", Chosen = i % 3 == 0 ? "unsure" : "good", Rejected = "bad" });

        var result = UncertaintyEvaluation.Evaluate(new KnowsWhenItGuesses(), pairs);

        Assert.Equal(4, result.Errors);   // the "unsure" chosen responses: mean −0.25 < 0
        Assert.Equal(10, result.Pairs);
        Assert.Equal(1, result.Auroc);
    }
}
