using System.Text;
using RewardKit.Rl;

namespace RewardKit.Reports.Rl;

/// <summary>
/// The report of an RL run (report.html): proxy and gold reward, KL and entropy against step, and sample generations of the
/// held-out prompts before and after training.
/// </summary>
public static class RlReport
{
    /// <summary>The HTML page.</summary>
    /// <param name="algorithm">The algorithm's name.</param>
    /// <param name="metrics">The run's metrics rows (training rows and evaluation rows with eval/*).</param>
    /// <param name="result">The before/after evaluations.</param>
    public static string Render(string algorithm, IReadOnlyList<IReadOnlyDictionary<string, double>> metrics, RlRunResult result)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(result);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>RewardKit RL run</title>")
            .Append("<style>body{font-family:sans-serif;max-width:1200px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px;vertical-align:top;font-size:13px}</style></head><body>")
            .Append($"<h1>RL run: {MarkupText.Escape(algorithm)}, {result.Steps} steps</h1>")
            .Append("<p>Held-out prompts, one fixed-seed sample per prompt at the rollout temperature (the same seeds before and after).</p>")
            .Append("<table><tr><th></th><th>proxy reward</th><th>gold reward</th><th>KL to reference (nats)</th><th>entropy</th></tr>")
            .Append(Row("before", result.Before)).Append(Row("after", result.After)).Append("</table>");
        var withStep = metrics.Where(r => r.ContainsKey("step")).ToList();
        html.Append(Chart("reward", "Reward against step", "reward", withStep,
            ("objective/proxy_reward", "rollout proxy", ChartPalette.Blue), ("eval/proxy_reward", "held-out proxy", ChartPalette.Green),
            ("eval/gold_reward", "held-out gold", ChartPalette.Vermillion)));
        html.Append(Chart("kl", "KL to the reference against step", "nats", withStep,
            ("objective/kl", "rollout KL", ChartPalette.Blue), ("eval/kl", "held-out KL", ChartPalette.Vermillion)));
        html.Append(Chart("entropy", "Entropy against step", "nats per token", withStep,
            ("objective/entropy", "rollout entropy", ChartPalette.Blue), ("eval/entropy", "held-out entropy", ChartPalette.Vermillion)));
        html.Append("<h2>Samples before and after</h2><table><tr><th>prompt</th><th>before</th><th>after</th></tr>");
        for (int i = 0; i < Math.Min(result.Before.Samples.Count, result.After.Samples.Count); i++)
        {
            var (b, a) = (result.Before.Samples[i], result.After.Samples[i]);
            html.Append($"<tr><td>{MarkupText.Escape(b.Prompt)}</td><td>{Sample(b.Response, b.Proxy, b.Gold)}</td><td>{Sample(a.Response, a.Proxy, a.Gold)}</td></tr>");
        }
        return html.Append("</table></body></html>").ToString();
    }

    static string Row(string name, RlEvaluation e) =>
        $"<tr><td>{name}</td><td>{MarkupText.Number(e.ProxyReward)}</td><td>{MarkupText.Number(e.GoldReward)}</td><td>{MarkupText.Number(e.Kl)}</td><td>{MarkupText.Number(e.Entropy)}</td></tr>";

    static string Sample(string response, double proxy, double? gold) =>
        $"{MarkupText.Escape(response)}<br><small>proxy {proxy:0.000}{(gold is { } g ? $", gold {g:0.000}" : "")}</small>";

    static string Chart(string id, string title, string yLabel, List<IReadOnlyDictionary<string, double>> rows, params (string Key, string Name, string Color)[] series)
    {
        var chart = new SvgChart { Id = id, Title = title, XLabel = "step", YLabel = yLabel };
        foreach (var (key, name, color) in series)
        {
            var points = rows.Where(r => r.ContainsKey(key) && double.IsFinite(r[key])).Select(r => new ChartPoint(r["step"], r[key])).ToList();
            if (points.Count > 0) chart.Series.Add(new LineSeries(name, color, points) { Markers = points.Count < 30 });
        }
        return chart.Series.Count == 0 ? "" : chart.Render();
    }
}
