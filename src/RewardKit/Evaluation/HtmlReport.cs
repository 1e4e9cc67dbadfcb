using System.Text;
using RewardKit.Reports;
using static RewardKit.Reports.MarkupText;

namespace RewardKit.Evaluation;

/// <summary>
/// Writes report.html: one self-contained page (inline CSS and inline SVG, no scripts, no external resources) with the key
/// numbers, the reliability diagram, chosen vs rejected reward histograms, accuracy by category with 95% CIs, reward vs
/// length, and the training curves from the model's metrics.jsonl. Deterministic: the same inputs give the same bytes.
/// </summary>
/// <example><code>
/// var report = Evaluator.Evaluate(pairs, options);
/// File.WriteAllText("out/report.html", HtmlReport.Render(report, pairs, Path.Combine(modelDir, "..", "metrics.jsonl")));
/// </code></example>
public static class HtmlReport
{
    /// <summary>Most points drawn in the length scatter; larger sets are thinned evenly (and the page says so).</summary>
    public const int MaxScatterPoints = 6000;

    /// <summary>The page for scored pairs: rewards of both responses for the histograms, (length, reward) of every response for the scatter.</summary>
    public static string Render(EvaluationReport report, IReadOnlyList<ScoredPair> pairs, string? metricsJsonlPath, string title = "Reward model evaluation")
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var points = pairs.SelectMany(p => new[] { ((double)p.ChosenLength, p.RewardChosen), ((double)p.RejectedLength, p.RewardRejected) }).ToList();
        return Render(report, pairs.Select(p => p.RewardChosen).ToList(), pairs.Select(p => p.RewardRejected).ToList(), points, metricsJsonlPath, title);
    }

    /// <summary>The page from a report plus the raw rewards and (length, reward) points behind it.</summary>
    /// <param name="report">The evaluation.</param>
    /// <param name="chosenRewards">Reward of every chosen response.</param>
    /// <param name="rejectedRewards">Reward of every rejected response.</param>
    /// <param name="lengthPoints">(response length, reward) per response.</param>
    /// <param name="metricsJsonlPath">The trainer's metrics.jsonl, or null; when absent the training curves are replaced by a note.</param>
    /// <param name="title">Page heading.</param>
    public static string Render(EvaluationReport report, IReadOnlyList<double> chosenRewards, IReadOnlyList<double> rejectedRewards,
        IReadOnlyList<(double Length, double Reward)> lengthPoints, string? metricsJsonlPath, string title = "Reward model evaluation")
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(chosenRewards);
        ArgumentNullException.ThrowIfNull(rejectedRewards);
        ArgumentNullException.ThrowIfNull(lengthPoints);

        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
        sb.Append("<link rel=\"icon\" href=\"data:,\"/>\n"); // no favicon request
        sb.Append($"<title>{Escape(title)}</title>\n<style>\n{Css}</style>\n</head>\n<body>\n");
        sb.Append($"<h1>{Escape(title)}</h1>\n");
        sb.Append($"<p class=\"lead\">{report.Pairs} pairs");
        if (report.Datasets.Count > 0) sb.Append(" from " + string.Join(", ", report.Datasets.Keys.Select(k => $"<code>{Escape(k)}</code>")));
        sb.Append(report.Temperature is { } t ? $"; served probabilities use temperature T = {Number(t)}." : "; probabilities at T = 1 (uncalibrated).");
        sb.Append("</p>\n");

        AppendSummary(sb, report);
        AppendEstimates(sb, "Datasets", "dataset", report.Datasets, report.RobustnessGap);
        AppendEstimates(sb, "By agreement", "agreement", report.ByAgreement, null);
        if (report.Probes is { Count: > 0 } probes)
        {
            sb.Append("<h2>Probes</h2>\n<table class=\"numbers\">\n<thead><tr><th>probe</th><th>kind</th><th>value</th></tr></thead>\n<tbody>\n");
            foreach (var p in probes) sb.Append($"<tr><td>{Escape(p.Name)}</td><td>{Escape(p.Kind)}</td><td>{Number(p.Value)}</td></tr>\n");
            sb.Append("</tbody>\n</table>\n");
        }

        sb.Append("<h2>Charts</h2>\n<div class=\"charts\">\n");
        Figure(sb, ReliabilityChart.Create("chart-reliability", "Reliability diagram", report.Reliability,
            $"ECE {Number(report.Ece)} (noise floor {Number(report.EceNoiseFloor.Mean)}, p95 {Number(report.EceNoiseFloor.Percentile95)}), MCE {Number(report.Mce)}").Render(),
            "Observed accuracy per confidence bin; a calibrated model's bars reach the dashed diagonal.");

        var chosen = Finite(chosenRewards, out int badChosen);
        var rejected = Finite(rejectedRewards, out int badRejected);
        Figure(sb, SvgChart.Histogram("chart-rewards", "Rewards: chosen vs rejected", "reward",
            [new HistogramSample("chosen", ChartPalette.Blue, chosen), new HistogramSample("rejected", ChartPalette.Vermillion, rejected)]).Render(),
            $"Reward gap (mean chosen − mean rejected) {Number(report.RewardGap)}." + Dropped(badChosen + badRejected, "non-finite rewards"));

        if (report.ByCategory.Count > 0)
        {
            var values = report.ByCategory.Select(kv => new CategoryValue(kv.Key, kv.Value.Value, kv.Value.Lower, kv.Value.Upper)).ToList();
            var chart = SvgChart.CategoryBars("chart-categories", "Accuracy by category", "accuracy", values, ChartPalette.Green, "accuracy (95% CI)", (0, 1));
            double right = values.Count - 0.5;
            chart.Series.Add(new LineSeries($"overall {Number(report.Accuracy.Value, "0.000")}", ChartPalette.Blue,
                [new(-0.5, report.Accuracy.Value), new(right, report.Accuracy.Value)]) { Dashed = true, StrokeWidth = 1.5 });
            chart.Series.Add(new LineSeries("chance", ChartPalette.Grey, [new(-0.5, 0.5), new(right, 0.5)]) { Dashed = true, StrokeWidth = 1 });
            Figure(sb, chart.Render(), "Error bars: bootstrap 95% confidence intervals resampled by prompt.", wide: chart.Width > 560);
        }
        else Note(sb, "Accuracy by category omitted: the data carries no <code>category</code> field.");

        var points = lengthPoints.Where(p => double.IsFinite(p.Length) && double.IsFinite(p.Reward)).Select(p => new ChartPoint(p.Length, p.Reward)).ToList();
        int badPoints = lengthPoints.Count - points.Count, shown = points.Count;
        if (points.Count > MaxScatterPoints)
        {
            int stride = (points.Count + MaxScatterPoints - 1) / MaxScatterPoints;
            points = points.Where((_, i) => i % stride == 0).ToList();
        }
        Figure(sb, SvgChart.Scatter("chart-length", "Reward vs response length", "response length", "reward",
                new ScatterSeries("response", ChartPalette.Purple, points)).Render(),
            $"Spearman(reward, length) {Number(report.LengthBias.SpearmanRewardLength)}; length-only baseline accuracy {Number(report.LengthBias.LengthBaselineAccuracy)}."
            + (points.Count < shown ? $" Showing {points.Count} of {shown} points (1 in {(shown + MaxScatterPoints - 1) / MaxScatterPoints})." : "")
            + Dropped(badPoints, "non-finite points"));

        AppendTraining(sb, metricsJsonlPath);
        sb.Append("</div>\n</body>\n</html>\n");
        return sb.ToString();
    }

    static void AppendTraining(StringBuilder sb, string? path)
    {
        if (path is null || !File.Exists(path))
        {
            Note(sb, path is null ? "Training curves omitted: no metrics.jsonl was given."
                : $"Training curves omitted: no metrics log at <code>{Escape(path)}</code>.");
            return;
        }
        var rows = TrainingMetricsLog.Read(path);
        bool any = false;
        foreach (var (id, name, train, eval) in new[] { ("chart-train-loss", "loss", "loss", "eval_loss"), ("chart-train-accuracy", "accuracy", "accuracy", "eval_accuracy") })
        {
            var trainPoints = TrainingMetricsLog.Series(rows, train);
            var evalPoints = TrainingMetricsLog.Series(rows, eval);
            if (trainPoints.Count == 0 && evalPoints.Count == 0) continue;
            any = true;
            var series = new List<LineSeries>();
            if (trainPoints.Count > 0) series.Add(new LineSeries($"train {train}", ChartPalette.Blue, trainPoints) { StrokeWidth = 1.5 });
            if (evalPoints.Count > 0) series.Add(new LineSeries(eval, ChartPalette.Vermillion, evalPoints) { Markers = true });
            var chart = SvgChart.Line(id, $"Training {name}", "step", name, [.. series]);
            Figure(sb, chart.Render(), $"From <code>{Escape(Path.GetFileName(path))}</code>: {trainPoints.Count} training rows, {evalPoints.Count} evaluation rows.");
        }
        if (!any) Note(sb, $"Training curves omitted: <code>{Escape(path)}</code> has no loss or accuracy rows.");
    }

    static void AppendSummary(StringBuilder sb, EvaluationReport r)
    {
        static string E(Estimate e) => $"{Number(e.Value)} <span class=\"ci\">[{Number(e.Lower)}, {Number(e.Upper)}]</span>";
        var rows = new List<(string, string)>
        {
            ("pairs", r.Pairs.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("accuracy (95% CI, by prompt)", E(r.Accuracy)),
            ($"ECE, served probabilities{(r.Temperature is { } t ? $" (T = {Number(t)})" : "")}", Number(r.Ece)),
            ("ECE noise floor (mean / p95)", $"{Number(r.EceNoiseFloor.Mean)} / {Number(r.EceNoiseFloor.Percentile95)}"),
            ("ECE uncalibrated (T = 1)", Number(r.EceUncalibrated)),
            ("MCE", Number(r.Mce)),
            ("log loss", Number(r.LogLoss)),
            ("Brier score", Number(r.Brier)),
            ("reward gap", Number(r.RewardGap)),
            ("chosen reward mean ± std", $"{Number(r.ChosenRewards.Mean)} ± {Number(r.ChosenRewards.Std)}"),
            ("rejected reward mean ± std", $"{Number(r.RejectedRewards.Mean)} ± {Number(r.RejectedRewards.Std)}"),
            ("Mann-Whitney U (p, chosen &gt; rejected)", $"{Number(r.MannWhitney.Statistic, "0")} ({Number(r.MannWhitney.PValue, "0.###e+0")})"),
            ("length-only baseline accuracy", Number(r.LengthBias.LengthBaselineAccuracy)),
            ("Spearman(reward, length)", Number(r.LengthBias.SpearmanRewardLength)),
            ("accuracy when chosen is longer / not longer", $"{Number(r.LengthBias.AccuracyChosenLonger)} / {Number(r.LengthBias.AccuracyChosenNotLonger)}"),
        };
        if (r.ResponseOnlyBaselineAccuracy is { } ro) rows.Insert(rows.FindIndex(row => row.Item1 == "length-only baseline accuracy") + 1, ("response-only baseline accuracy (bag of words, no prompt)", Number(ro)));
        if (r.PTrueError is { } pe) rows.Add(("error vs p_true (MAE / RMSE)", $"{Number(pe.MeanAbsoluteError)} / {Number(pe.Rmse)}"));
        if (r.GoldSpearman is { } g) rows.Add(("Spearman with gold reward", Number(g)));
        sb.Append("<h2>Summary</h2>\n<table class=\"numbers\" id=\"summary\">\n<thead><tr><th>metric</th><th>value</th></tr></thead>\n<tbody>\n");
        foreach (var (k, v) in rows) sb.Append($"<tr><td>{k}</td><td>{v}</td></tr>\n");
        sb.Append("</tbody>\n</table>\n");
    }

    static void AppendEstimates(StringBuilder sb, string heading, string column, IReadOnlyDictionary<string, Estimate> values, IReadOnlyDictionary<string, double>? gap)
    {
        if (values.Count == 0) return;
        bool withGap = gap is { Count: > 0 };
        sb.Append($"<h2>{Escape(heading)}</h2>\n<table class=\"numbers\">\n<thead><tr><th>{Escape(column)}</th><th>accuracy</th><th>95% CI</th>{(withGap ? "<th>robustness gap</th>" : "")}</tr></thead>\n<tbody>\n");
        foreach (var (k, e) in values)
        {
            sb.Append($"<tr><td>{Escape(k)}</td><td>{Number(e.Value)}</td><td>[{Number(e.Lower)}, {Number(e.Upper)}]</td>");
            if (withGap) sb.Append($"<td>{(gap!.TryGetValue(k, out var d) ? Number(d) : "—")}</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
    }

    static List<double> Finite(IReadOnlyList<double> xs, out int dropped)
    {
        var list = xs.Where(double.IsFinite).ToList();
        dropped = xs.Count - list.Count;
        return list;
    }

    static string Dropped(int n, string what) => n == 0 ? "" : $" <strong>{n} {what} not plotted.</strong>";

    static void Figure(StringBuilder sb, string svg, string caption, bool wide = false) =>
        sb.Append(wide ? "<figure class=\"chart wide\">\n" : "<figure class=\"chart\">\n").Append(svg).Append($"\n<figcaption>{caption}</figcaption>\n</figure>\n");

    static void Note(StringBuilder sb, string html) => sb.Append($"<p class=\"note\">{html}</p>\n");

    const string Css = """
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222; background: #f6f6f4; margin: 24px auto; max-width: 1200px; padding: 0 16px; }
        h1 { font-size: 24px; margin: 0 0 4px; }
        h2 { font-size: 18px; margin: 24px 0 8px; }
        p.lead { color: #555; margin: 0 0 12px; }
        table.numbers { border-collapse: collapse; background: #fff; font-size: 13px; }
        table.numbers th, table.numbers td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; }
        table.numbers td:nth-child(n+2) { font-variant-numeric: tabular-nums; }
        table.numbers th { background: #efefec; }
        span.ci { color: #666; }
        code { font-size: 12px; background: #ececea; padding: 0 3px; }
        .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
        figure.chart { margin: 0; background: #fff; border: 1px solid #ddd; padding: 8px; }
        figure.chart.wide { grid-column: 1 / -1; }
        figure.chart svg { display: block; max-width: 100%; height: auto; }
        figcaption { font-size: 12px; color: #555; margin-top: 4px; }
        p.note { background: #fff8e1; border: 1px solid #f0d98a; padding: 8px 12px; font-size: 13px; margin: 0; align-self: start; }

        """;
}
