using System.Globalization;
using System.Text;

namespace RewardKit.Evaluation;

/// <summary>Writes report.md from an <see cref="EvaluationReport"/>.</summary>
public static class MarkdownReport
{
    /// <summary>The report as Markdown.</summary>
    public static string Render(EvaluationReport r)
    {
        static string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
        static string E(Estimate e) => $"{F(e.Value)} [{F(e.Lower)}, {F(e.Upper)}]";
        var sb = new StringBuilder();
        sb.AppendLine("# Reward model evaluation").AppendLine();
        sb.AppendLine("| metric | value |").AppendLine("|---|---|");
        sb.AppendLine($"| pairs | {r.Pairs} |");
        sb.AppendLine($"| accuracy (95% CI by prompt) | {E(r.Accuracy)} |");
        sb.AppendLine($"| ECE (served{(r.Temperature is { } t ? $", T = {F(t)}" : "")}) | {F(r.Ece)} (noise floor {F(r.EceNoiseFloor.Mean)}, p95 {F(r.EceNoiseFloor.Percentile95)}) |");
        sb.AppendLine($"| ECE uncalibrated | {F(r.EceUncalibrated)} |");
        sb.AppendLine($"| MCE | {F(r.Mce)} |");
        sb.AppendLine($"| log loss | {F(r.LogLoss)} |");
        sb.AppendLine($"| Brier | {F(r.Brier)} |");
        sb.AppendLine($"| reward gap | {F(r.RewardGap)} |");
        sb.AppendLine($"| Mann-Whitney U (p) | {F(r.MannWhitney.Statistic)} ({r.MannWhitney.PValue:0.###e+0}) |");
        if (r.Baselines?.GetValueOrDefault("length_only") is { } lo) sb.AppendLine($"| length-only baseline (first file, 95% CI) | {E(lo)} |");
        else sb.AppendLine($"| length-only baseline | {F(r.LengthBias.LengthBaselineAccuracy)} |");
        if (r.Baselines?.GetValueOrDefault("response_only") is { } roe) sb.AppendLine($"| response-only baseline (bag of words, no prompt; first file, 95% CI) | {E(roe)} |");
        else if (r.ResponseOnlyBaselineAccuracy is { } ro) sb.AppendLine($"| response-only baseline (bag of words, no prompt) | {F(ro)} |");
        sb.AppendLine($"| Spearman(reward, length) | {F(r.LengthBias.SpearmanRewardLength)} |");
        if (r.PTrueError is { } pe) sb.AppendLine($"| error vs p_true (MAE / RMSE) | {F(pe.MeanAbsoluteError)} / {F(pe.Rmse)} |");
        if (r.GoldSpearman is { } g) sb.AppendLine($"| Spearman with gold reward | {F(g)} |");
        void Section(string title, IReadOnlyDictionary<string, Estimate> d)
        {
            if (d.Count == 0) return;
            sb.AppendLine().AppendLine($"## {title}").AppendLine().AppendLine("| name | accuracy [95% CI] |").AppendLine("|---|---|");
            foreach (var (k, v) in d) sb.AppendLine($"| {k} | {E(v)} |");
        }
        Section("Datasets", r.Datasets);
        Section("By category", r.ByCategory);
        Section("By agreement", r.ByAgreement);
        if (r.Probes is { Count: > 0 })
        {
            sb.AppendLine().AppendLine("## Probes").AppendLine().AppendLine("| probe | kind | value |").AppendLine("|---|---|---|");
            foreach (var p in r.Probes) sb.AppendLine($"| {p.Name} | {p.Kind} | {F(p.Value)} |");
        }
        return sb.ToString();
    }
}
