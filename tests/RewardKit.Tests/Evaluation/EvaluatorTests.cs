using System.Text.Json;
using RewardKit.Evaluation;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tests.Evaluation;

public class EvaluatorTests
{
    static List<ScoredPair> Pairs(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(i =>
        {
            double m = rng.NextDouble() * 6 - 2;
            int lc = rng.Next(10, 200), lr = rng.Next(10, 200);
            return new ScoredPair($"p{i / 2}", i % 3 == 0 ? "math" : "chat", i < n / 2 ? "a.jsonl" : "b.jsonl",
                m + lc * 0.001, lr * 0.001, lc, lr, PTrue: Activations.Sigmoid(m));
        }).ToList();
    }

    [Fact]
    public void Report_json_has_snake_case_keys_breakdowns_and_a_calibrated_ece()
    {
        var pairs = Pairs(400, 3);
        var report = Evaluator.Evaluate(pairs, new EvaluationOptions { Temperature = 2, Resamples = 100, NoiseSimulations = 50 });
        var json = JsonDocument.Parse(report.ToJson()).RootElement;
        foreach (var key in new[] { "accuracy", "ece", "ece_uncalibrated", "temperature", "log_loss", "brier", "datasets", "by_category", "reliability", "length_bias", "p_true_error", "robustness_gap" })
            Assert.True(json.TryGetProperty(key, out _), key);
        Assert.Equal(2, json.GetProperty("temperature").GetDouble());
        Assert.NotEqual(report.Ece, report.EceUncalibrated);
        Assert.Equal(["a.jsonl", "b.jsonl"], report.Datasets.Keys);
        Assert.Equal(["chat", "math"], report.ByCategory.Keys);
        Assert.Equal(report.Datasets["a.jsonl"].Value - report.Datasets["b.jsonl"].Value, report.RobustnessGap["b.jsonl"], 1e-12);
        Assert.Equal(PreferenceMetrics.Accuracy(pairs.Select(p => p.Margin).ToArray()), report.Accuracy.Value);
    }

    [Fact]
    public void A_length_loving_scorer_is_fooled_by_filler_and_moved_by_whitespace()
    {
        var pairs = Enumerable.Range(0, 20).Select(i => new TextPair("q", "A correct answer number " + i + ".", "Wrong. Very wrong.")).ToList();
        float[] ByLength(IReadOnlyList<(string prompt, string response)> xs) => xs.Select(x => (float)x.response.Length).ToArray();
        var probes = RobustnessAudit.RunProbes(pairs, ByLength);
        Assert.Equal(1.0, probes.Single(p => p.Name == "append_filler").Value);
        Assert.True(probes.Single(p => p.Name == "trailing_newline").Value == 1.0);
        float[] Constant(IReadOnlyList<(string prompt, string response)> xs) => new float[xs.Count];
        Assert.All(RobustnessAudit.RunProbes(pairs, Constant), p => Assert.Equal(0, p.Value));
    }
}

public class RankingAndMarkdownTests
{
    [Fact]
    public void Scores_that_follow_human_ranks_correlate_perfectly_and_reversed_ones_negatively()
    {
        var good = new ScoredRanking("a", [3, 2, 1], [1, 2, 3]);
        var bad = new ScoredRanking("b", [1, 2, 3], [1, 2, 3]);
        Assert.Equal(1, RankingMetrics.Rankings([good]).Spearman, 1e-12);
        Assert.Equal(0, RankingMetrics.Rankings([good, bad]).KendallTauB, 1e-12);
    }

    [Fact]
    public void Markdown_report_lists_accuracy_and_every_category()
    {
        var pairs = Enumerable.Range(0, 40).Select(i => new ScoredPair($"g{i}", i % 2 == 0 ? "x" : "y", null, i % 5 == 0 ? -1 : 1, 0, 5, 3)).ToList();
        var md = MarkdownReport.Render(Evaluator.Evaluate(pairs, new EvaluationOptions { Resamples = 50, NoiseSimulations = 20 }));
        Assert.Contains("| accuracy (95% CI by prompt) | 0.8000", md);
        Assert.Contains("| x |", md);
        Assert.Contains("| y |", md);
    }
}
