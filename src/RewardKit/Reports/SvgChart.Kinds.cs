using System.Globalization;

namespace RewardKit.Reports;

/// <summary>A category's value with an optional confidence interval, for <see cref="SvgChart.CategoryBars"/>.</summary>
/// <param name="Category">Category label (x axis).</param>
/// <param name="Value">Bar height.</param>
/// <param name="Low">Lower end of the interval, or null.</param>
/// <param name="High">Upper end of the interval, or null.</param>
/// <param name="Count">Number of items behind the value (shown in the tooltip), or null.</param>
public sealed record CategoryValue(string Category, double Value, double? Low = null, double? High = null, int? Count = null);

/// <summary>A named sample for <see cref="SvgChart.Histogram"/>.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Color">CSS colour.</param>
/// <param name="Values">The values; all must be finite.</param>
public sealed record HistogramSample(string Name, string Color, IReadOnlyList<double> Values);

public sealed partial class SvgChart
{
    static string F(double v, int decimals = 3) => v.ToString("F" + decimals, CultureInfo.InvariantCulture);

    /// <summary>A line chart of one or more series (e.g. training curves).</summary>
    public static SvgChart Line(string id, string title, string xLabel, string yLabel, params LineSeries[] series) =>
        new() { Id = id, Title = title, XLabel = xLabel, YLabel = yLabel, Series = [.. series] };

    /// <summary>A scatter plot of one or more series.</summary>
    public static SvgChart Scatter(string id, string title, string xLabel, string yLabel, params ScatterSeries[] series) =>
        new() { Id = id, Title = title, XLabel = xLabel, YLabel = yLabel, Series = [.. series] };

    /// <summary>One bar per category with error bars for [Low, High] where given (e.g. accuracy with a 95% CI). Many categories widen the chart (22 px each).</summary>
    public static SvgChart CategoryBars(string id, string title, string yLabel, IReadOnlyList<CategoryValue> values, string color,
        string? seriesName = null, (double Min, double Max)? yRange = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        var bars = values.Select((v, i) => new ChartBar(i - 0.35, i + 0.35, v.Value, v.Low, v.High,
            $"{v.Category}: {F(v.Value)}" + (v.Low is { } lo && v.High is { } hi ? $" [{F(lo)}, {F(hi)}]" : "") + (v.Count is { } n ? $", n = {n}" : ""))).ToList();
        return new SvgChart
        {
            Id = id, Title = title, YLabel = yLabel, YRange = yRange, Width = Math.Max(560, 22 * values.Count + 140), XCategories = values.Select(v => v.Category).ToList(),
            Series = [new BarSeries(seriesName, color, bars)],
        };
    }

    /// <summary>
    /// Overlaid histograms on shared bins: the bin width is a nice number near (max − min)/<paramref name="bins"/> and the
    /// edges are its multiples, so every sample is counted in the same bins.
    /// </summary>
    public static SvgChart Histogram(string id, string title, string xLabel, IReadOnlyList<HistogramSample> samples, int bins = 30)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (bins < 1) throw new ArgumentException($"bins must be at least 1 (got {bins}).", nameof(bins));
        foreach (var s in samples)
            for (int i = 0; i < s.Values.Count; i++)
                if (!double.IsFinite(s.Values[i]))
                    throw new ArgumentException($"histogram '{id}', sample '{s.Name}': value {i} is {s.Values[i]}; drop non-finite values before charting.");
        var all = samples.SelectMany(s => s.Values).ToList();
        var series = new List<ChartSeries>();
        if (all.Count > 0)
        {
            double min = all.Min(), max = all.Max();
            double width = max > min ? NiceNumber((max - min) / bins) : 1;
            double start = Math.Floor(min / width) * width;
            int count = Math.Max(1, (int)Math.Floor((max - start) / width) + 1);
            foreach (var s in samples)
            {
                var counts = new int[count];
                foreach (var v in s.Values) counts[Math.Clamp((int)Math.Floor((v - start) / width), 0, count - 1)]++;
                var barsOf = counts.Select((c, b) => new ChartBar(start + b * width, start + (b + 1) * width, c,
                    Tooltip: $"{s.Name}: {c} in [{F(start + b * width)}, {F(start + (b + 1) * width)})")).ToList();
                series.Add(new BarSeries(s.Name, s.Color, barsOf) { Opacity = 0.45 });
            }
        }
        else series.AddRange(samples.Select(s => new BarSeries(s.Name, s.Color, []) { Opacity = 0.45 }));
        return new SvgChart { Id = id, Title = title, XLabel = xLabel, YLabel = "count", Series = series };
    }

    /// <summary>The nice number (1, 2, 5 or 10 × 10^k) nearest to <paramref name="x"/> &gt; 0: histogram bin widths.</summary>
    internal static double NiceNumber(double x)
    {
        double exp = Math.Floor(Math.Log10(x));
        double f = x / Math.Pow(10, exp);
        double nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
        return nice * Math.Pow(10, exp);
    }
}
