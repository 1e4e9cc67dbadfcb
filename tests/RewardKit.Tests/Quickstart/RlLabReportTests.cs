using System.Text.Json;
using RewardKit.Quickstart;
using RewardKit.Reports;

namespace RewardKit.Tests.Quickstart;

public sealed class RlLabReportTests
{
    static RlLabResult Result(bool stopped = false)
    {
        var ppo = new OverOptimisationCurve("ppo", [new("step 0", 0, -1, -1.8, Step: 0), new("step 10", 1, 0, -1.5, Step: 10), new("step 20", 4, 1, -2.0, Step: 20)]);
        var bon = new OverOptimisationCurve("best_of_n", [new("n = 1", 0, -1, -1.6, N: 1), new("n = 2", BestOfN(2), -0.5, -1.4, N: 2)]);
        return new RlLabResult("rm", "sft", ppo, bon, 3, 20, stopped, "ppo/policy", [], new Dictionary<string, double> { ["ppo"] = 12.34, ["total"] = 20 });
    }

    static double BestOfN(int n) => RewardKit.Generation.BestOfN.AnalyticKl(n);

    [Fact]
    public void The_json_report_holds_both_curves_with_sqrt_kl_their_gold_peaks_and_the_over_optimisation_verdicts()
    {
        var json = JsonDocument.Parse(RlLabReport.ToJson(Result(), new RlLabOptions())).RootElement;
        Assert.Equal(3, json.GetProperty("held_out_prompts").GetInt32());
        var ppo = json.GetProperty("ppo");
        Assert.True(ppo.GetProperty("over_optimised").GetBoolean());
        Assert.Equal("step 10", ppo.GetProperty("gold_peak").GetProperty("label").GetString());
        Assert.Equal(2, ppo.GetProperty("points")[2].GetProperty("sqrt_kl").GetDouble());
        var bon = json.GetProperty("best_of_n");
        Assert.False(bon.GetProperty("over_optimised").GetBoolean());
        Assert.Equal(2, bon.GetProperty("points")[1].GetProperty("n").GetInt32());
        Assert.Equal(12.3, json.GetProperty("seconds").GetProperty("ppo").GetDouble());
    }

    [Fact]
    public void The_html_report_has_the_two_charts_and_says_where_gold_peaked_and_whether_it_was_still_rising()
    {
        var html = RlLabReport.Render(Result(stopped: true), new RlLabOptions());
        Assert.Equal(2, html.Split("<svg").Length - 1);
        Assert.Contains("gold reward peaked at step 10", html);
        Assert.Contains("over-optimised", html);
        Assert.Contains("gold reward was still rising at the last point (n = 2", html);
        Assert.Contains("stopped on the gold/proxy gap", html);
    }
}
