using RewardKit.Generation;

namespace RewardKit.Tests.Generation;

public sealed class BestOfNTests
{
    [Fact]
    public void The_analytic_kl_is_log_n_minus_n_minus_one_over_n()
    {
        Assert.Equal(0, BestOfN.AnalyticKl(1));
        Assert.Equal(Math.Log(2) - 0.5, BestOfN.AnalyticKl(2), 12);
        Assert.Equal(Math.Log(64) - 63.0 / 64, BestOfN.AnalyticKl(64), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => BestOfN.AnalyticKl(0));
    }

    [Fact]
    public void The_expected_best_of_n_equals_the_mean_over_every_n_subset()
    {
        double[] proxy = [0.3, -1.2, 2.5, 0.9, 0.1, 1.7, -0.4];
        double[] gold = [1, 2, -1, 0.5, 3, 0.25, -2];
        for (int n = 1; n <= proxy.Length; n++)
        {
            var subsets = Subsets(proxy.Length, n).ToList();
            double brute = subsets.Average(s => gold[s.OrderByDescending(i => proxy[i]).First()]);
            Assert.Equal(brute, BestOfN.ExpectedBest(proxy, gold, n), 10);
        }
        Assert.Equal(gold.Average(), BestOfN.ExpectedBest(proxy, gold, 1), 12);
        Assert.Equal(gold[2], BestOfN.ExpectedBest(proxy, gold, proxy.Length), 12);   // all samples: the proxy's argmax
    }

    [Fact]
    public void The_expected_best_rejects_an_n_above_the_samples_and_mismatched_lengths()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BestOfN.ExpectedBest([1.0, 2.0], [1.0, 2.0], 3));
        Assert.Throws<ArgumentException>(() => BestOfN.ExpectedBest([1.0, 2.0], [1.0], 1));
    }

    [Fact]
    public void Scored_samples_pick_the_first_of_the_highest_proxy_scores()
    {
        var s = new ScoredSamples("p", ["a", "b", "c"], [0.5, 2, 2], null);
        Assert.Equal(1, s.Best);
    }

    static IEnumerable<int[]> Subsets(int count, int size)
    {
        if (size == 0) { yield return []; yield break; }
        for (int first = 0; first <= count - size; first++)
            foreach (var rest in Subsets(count - first - 1, size - 1))
                yield return [first, .. rest.Select(r => r + first + 1)];
    }
}
