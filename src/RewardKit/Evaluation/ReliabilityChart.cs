using System.Globalization;
using RewardKit.Reports;

namespace RewardKit.Evaluation;

/// <summary>The reliability diagram of an evaluation (<see cref="ReliabilityBin"/>s) as an <see cref="SvgChart"/>.</summary>
public static class ReliabilityChart
{
    static string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);

    /// <summary>
    /// A reliability diagram for confidences in [½, 1]: one bar per non-empty bin at its observed accuracy (bars meet halfway
    /// between neighbouring bins), a marker at (mean confidence, accuracy), and the diagonal a calibrated model follows.
    /// </summary>
    public static SvgChart Create(string id, string title, IReadOnlyList<ReliabilityBin> bins, string? subtitle = null)
    {
        ArgumentNullException.ThrowIfNull(bins);
        var used = bins.Where(b => b.Count > 0 && double.IsFinite(b.MeanConfidence) && double.IsFinite(b.Accuracy)).ToList();
        double lo = used.Count > 0 && used.Min(b => b.Lower) < 0.5 ? 0 : 0.5;
        var bars = new List<ChartBar>();
        for (int i = 0; i < used.Count; i++)
        {
            double left = i == 0 ? lo : (used[i - 1].Upper + used[i].Lower) / 2;
            double right = i == used.Count - 1 ? 1 : (used[i].Upper + used[i + 1].Lower) / 2;
            var b = used[i];
            bars.Add(new ChartBar(left, right, b.Accuracy,
                Tooltip: $"confidence {F(b.Lower)}–{F(b.Upper)}: n = {b.Count}, mean confidence {F(b.MeanConfidence)}, accuracy {F(b.Accuracy)}"));
        }
        return new SvgChart
        {
            Id = id, Title = title, Subtitle = subtitle, XLabel = "confidence max(p, 1 − p)", YLabel = "observed accuracy",
            XRange = (lo, 1), YRange = (0, 1),
            Series =
            [
                new BarSeries("accuracy per bin", ChartPalette.Blue, bars) { Opacity = 0.35 },
                new LineSeries("perfect calibration", ChartPalette.Grey, [new(lo, lo), new(1, 1)]) { Dashed = true, StrokeWidth = 1.5 },
                new LineSeries("bin mean confidence", ChartPalette.Vermillion, used.Select(b => new ChartPoint(b.MeanConfidence, b.Accuracy)).ToList()) { Markers = true, StrokeWidth = 1.5 },
            ],
        };
    }
}
