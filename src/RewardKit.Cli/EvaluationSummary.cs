using RewardKit.Evaluation;
using Spectre.Console;

namespace RewardKit.Cli;

/// <summary>The terminal summary table of an evaluation (<c>eval</c> and <c>quickstart</c>).</summary>
static class EvaluationSummary
{
    /// <summary>Prints the table of <paramref name="result"/>'s key numbers.</summary>
    public static void Print(ModelEvaluationResult result)
    {
        var r = result.Report;
        var table = new Table().AddColumns("metric", "value");
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("pairs", r.Pairs.ToString());
        Row("accuracy (95% CI)", Interval(r.Accuracy));
        Row("ECE (served)", $"{r.Ece:F4}  (noise floor {r.EceNoiseFloor.Mean:F4}, p95 {r.EceNoiseFloor.Percentile95:F4})");
        Row("ECE (uncalibrated)", $"{r.EceUncalibrated:F4}");
        Row("temperature", r.Temperature is { } t ? $"{t:F4}" : "none");
        Row("log loss / Brier", $"{r.LogLoss:F4} / {r.Brier:F4}");
        string first = r.Datasets.Count > 1 ? " (first --data file)" : "";
        if (r.Baselines?.GetValueOrDefault("length_only") is { } lo) Row("length-only baseline" + first, Interval(lo));
        else Row("length-only baseline", $"{r.LengthBias.LengthBaselineAccuracy:F4}");
        if (r.Baselines?.GetValueOrDefault("response_only") is { } roe) Row("response-only baseline" + first, Interval(roe));
        else if (r.ResponseOnlyBaselineAccuracy is { } ro) Row("response-only baseline" + first, $"{ro:F4}");
        if (r.PTrueError is { } pe) Row("error vs p_true (MAE)", $"{pe.MeanAbsoluteError:F4}");
        foreach (var (name, est) in r.Datasets) Row($"accuracy on {name}", $"{est.Value:F4}");
        AnsiConsole.Write(table);
    }

    static string Interval(Estimate e) => $"{e.Value:F4} [{e.Lower:F4}, {e.Upper:F4}]";
}
