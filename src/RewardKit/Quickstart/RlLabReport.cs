using System.Text.Json;
using System.Text;
using RewardKit.IO;
using RewardKit.Reports;

namespace RewardKit.Quickstart;

/// <summary>
/// The RLHF lab's report (OUT/rl/report.html and report.json): gold and proxy reward against √KL to the SFT policy for the
/// PPO checkpoints and for best-of-n, with each curve's gold peak marked, whether it was over-optimised (proxy rising
/// further while gold fell), a table of every point and the time of each stage.
/// </summary>
public static class RlLabReport
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes report.html and report.json into <paramref name="directory"/> atomically; returns their paths.</summary>
    public static IReadOnlyList<string> Write(RlLabResult result, RlLabOptions options, string directory)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(directory);
        var html = Path.Combine(directory, "report.html");
        var json = Path.Combine(directory, "report.json");
        AtomicFile.WriteAllText(json, ToJson(result, options));
        AtomicFile.WriteAllText(html, Render(result, options));
        return [html, json];
    }

    /// <summary>The JSON report: both curves (points with kl, sqrt_kl, proxy_reward, gold_reward; gold_peak; over_optimised), the run's settings and times.</summary>
    public static string ToJson(RlLabResult result, RlLabOptions options)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        var report = new Dictionary<string, object?>
        {
            ["reward_model"] = result.RewardModelDirectory,
            ["sft_policy"] = result.SftPolicyDirectory,
            ["ppo_policy"] = result.KeptPolicyDirectory,
            ["ppo_steps"] = result.PpoSteps,
            ["kl_coef"] = options.Ppo.KlCoefficient,
            ["stop_on_gold_gap"] = options.StopOnGoldGap,
            ["stopped_on_gold_gap"] = result.StoppedOnGoldGap,
            ["held_out_prompts"] = result.HeldOutPrompts,
            ["ppo"] = result.Ppo,
            ["best_of_n"] = result.BestOfN,
            ["seconds"] = result.Seconds.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 1)),
        };
        return JsonSerializer.Serialize(report, Indented);
    }

    /// <summary>The HTML page.</summary>
    public static string Render(RlLabResult result, RlLabOptions options)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>RewardKit RLHF lab</title>")
            .Append("<style>body{font-family:sans-serif;max-width:1200px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px;font-size:13px}</style></head><body>")
            .Append("<h1>RLHF lab: gold and proxy reward against √KL</h1>")
            .Append($"<p>{result.HeldOutPrompts} held-out world prompts. Proxy = the reward model's score; gold = the world's judge. KL to the SFT policy in nats: "
                + $"PPO's held-out estimate ({options.EvalSamplesPerPrompt} samples per prompt), best-of-n's analytic log n − (n−1)/n (its rewards are the unbiased expectation over n-subsets of "
                + $"{options.MaxBestOfN} samples). The larger marker on each curve is its gold peak; a curve is over-optimised when a later point has higher proxy "
                + $"and gold lower by more than {MarkupText.Number(options.Tolerance, "0.###")}.</p>");
        html.Append(Summary(result.Ppo, $"PPO ({result.PpoSteps} steps, kl_coef {options.Ppo.KlCoefficient}{(result.StoppedOnGoldGap ? ", stopped on the gold/proxy gap" : "")})"))
            .Append(Summary(result.BestOfN, $"best-of-n (n ≤ {options.MaxBestOfN})"));
        html.Append(Chart("gold", "Gold reward against √KL", r => r.GoldReward, result)).Append(Chart("proxy", "Proxy reward against √KL", r => r.ProxyReward, result));
        html.Append("<h2>Points</h2><table><tr><th>method</th><th>point</th><th>KL (nats)</th><th>√KL</th><th>proxy reward</th><th>gold reward</th></tr>");
        foreach (var curve in new[] { result.Ppo, result.BestOfN })
            foreach (var p in curve.Points)
                html.Append($"<tr><td>{curve.Method}</td><td>{MarkupText.Escape(p.Label)}</td><td>{MarkupText.Number(p.Kl, "0.000")}</td><td>{MarkupText.Number(p.SqrtKl, "0.000")}</td>"
                    + $"<td>{MarkupText.Number(p.ProxyReward, "0.000")}</td><td>{MarkupText.Number(p.GoldReward, "0.000")}</td></tr>");
        html.Append("</table><h2>Time</h2><table>");
        foreach (var (stage, s) in result.Seconds) html.Append($"<tr><td>{MarkupText.Escape(stage)}</td><td>{s:0} s</td></tr>");
        return html.Append("</table></body></html>").ToString();
    }

    static string Summary(OverOptimisationCurve curve, string title)
    {
        if (curve.GoldPeak is not { } peak) return $"<p><b>{MarkupText.Escape(title)}</b>: no points.</p>";
        var last = curve.Points[^1];
        string verdict = curve.OverOptimised
            ? $"gold reward peaked at {MarkupText.Escape(peak.Label)} (√KL {peak.SqrtKl:0.00}, gold {peak.GoldReward:0.000}, proxy {peak.ProxyReward:0.000}) and then fell while proxy reward kept rising: over-optimised"
            : ReferenceEquals(peak, last) || peak == last
                ? $"gold reward was still rising at the last point ({MarkupText.Escape(last.Label)}, gold {last.GoldReward:0.000})"
                : $"gold reward peaked at {MarkupText.Escape(peak.Label)} (gold {peak.GoldReward:0.000}) and stayed within the tolerance after it";
        return $"<p><b>{MarkupText.Escape(title)}</b>: {verdict}; last point {MarkupText.Escape(last.Label)}: proxy {last.ProxyReward:0.000}, gold {last.GoldReward:0.000}, √KL {last.SqrtKl:0.00}.</p>";
    }

    static string Chart(string id, string title, Func<CurvePoint, double> y, RlLabResult result)
    {
        var chart = new SvgChart { Id = id, Title = title, XLabel = "√KL (nats^½)", YLabel = "reward" };
        foreach (var (curve, name, color) in new[] { (result.Ppo, "PPO", ChartPalette.Blue), (result.BestOfN, "best-of-n", ChartPalette.Vermillion) })
        {
            if (curve.Points.Count == 0) continue;
            chart.Series.Add(new LineSeries(name, color, [.. curve.Points.Select(p => new ChartPoint(p.SqrtKl, y(p)))]) { Markers = true });
            if (curve.GoldPeak is { } peak)
                chart.Series.Add(new ScatterSeries($"{name} gold peak", color, [new ChartPoint(peak.SqrtKl, y(peak))]) { Radius = 7, Opacity = 0.9 });
        }
        return chart.Render();
    }
}
