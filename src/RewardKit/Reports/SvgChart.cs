using System.Text;
using System.Text.RegularExpressions;
using static RewardKit.Reports.MarkupText;

namespace RewardKit.Reports;

/// <summary>
/// A small deterministic SVG chart: title, optional subtitle, legend row, frame, grid, nice ticks, axis labels, and layers
/// (<see cref="LineSeries"/>, <see cref="ScatterSeries"/>, <see cref="BarSeries"/>) drawn in order. The x axis is numeric,
/// or categorical when <see cref="XCategories"/> is set (category i sits at x = i). Output depends only on the inputs:
/// invariant number formatting, no timestamps, ids derived from <see cref="Id"/>.
/// </summary>
/// <example><code>
/// var chart = SvgChart.Line("loss", "Training loss", "step", "loss", new LineSeries("loss", ChartPalette.Blue, points));
/// string svg = chart.Render();
/// </code></example>
public sealed partial class SvgChart
{
    const double FontSize = 11, TitleSize = 15, CharWidth = 0.6; // average glyph width as a fraction of the font size

    /// <summary>Element id of the &lt;svg&gt;; unique within a page (clip paths derive from it). Letters, digits, '-' and '_'.</summary>
    public required string Id { get; init; }
    /// <summary>Title drawn at the top and used as the accessible name.</summary>
    public required string Title { get; init; }
    /// <summary>Second line under the title, or null.</summary>
    public string? Subtitle { get; init; }
    /// <summary>X axis label.</summary>
    public string XLabel { get; init; } = "";
    /// <summary>Y axis label.</summary>
    public string YLabel { get; init; } = "";
    /// <summary>Width in px. Default 560.</summary>
    public int Width { get; init; } = 560;
    /// <summary>Height in px. Default 380.</summary>
    public int Height { get; init; } = 380;
    /// <summary>Fixed x range (ticks inside it), or null to fit the data with nice ends.</summary>
    public (double Min, double Max)? XRange { get; init; }
    /// <summary>Fixed y range, or null to fit the data with nice ends.</summary>
    public (double Min, double Max)? YRange { get; init; }
    /// <summary>Category labels for a categorical x axis (category i at x = i), or null for a numeric axis.</summary>
    public IReadOnlyList<string>? XCategories { get; init; }
    /// <summary>Layers, drawn in order (later on top); the legend lists named ones in the same order.</summary>
    public List<ChartSeries> Series { get; init; } = [];

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]*$")]
    private static partial Regex IdPattern();

    /// <summary>The chart as a standalone &lt;svg&gt; element (valid XML).</summary>
    public string Render()
    {
        if (!IdPattern().IsMatch(Id ?? "")) throw new ArgumentException($"chart id '{Id}' must start with a letter and hold only letters, digits, '-' and '_'.", nameof(Id));
        if (Width < 160 || Height < 120) throw new ArgumentException($"chart '{Id}' is {Width}×{Height} px; use at least 160×120.");
        Validate();

        var (xScale, yScale, hasData) = Scales();
        var legend = Series.Where(s => !string.IsNullOrEmpty(s.Name)).ToList();

        // Layout: measure the text that sits around the plot area.
        double left = 12 + (YLabel.Length > 0 ? FontSize + 8 : 0) + yScale.Ticks.Select(t => TextWidth(yScale.Format(t))).DefaultIfEmpty(0).Max() + 8;
        double right = 18;
        double top = 10 + TitleSize + 6 + (Subtitle is null ? 0 : FontSize + 6);
        var legendRows = LayoutLegend(legend, left, Width - right);
        double legendTop = top;
        top += legendRows.Count == 0 ? 6 : legendRows.Count * (FontSize + 8) + 6;
        var categoryLabels = XCategories?.Select(c => Truncate(c, 18)).ToList();
        double plotWidthGuess = Width - left - right;
        bool rotate = categoryLabels is { Count: > 0 } &&
            categoryLabels.Max(TextWidth) + 6 > plotWidthGuess / categoryLabels.Count;
        if (rotate) // a rotated first label hangs to the left of its category: keep it inside the svg
            left = Math.Max(left, TextWidth(categoryLabels![0]) * 0.71 - plotWidthGuess / categoryLabels.Count / 2 + 8);
        double xTickHeight = rotate ? categoryLabels!.Max(TextWidth) * 0.71 + FontSize : FontSize + 4;
        double bottom = 8 + xTickHeight + 6 + (XLabel.Length > 0 ? FontSize + 8 : 0);
        double x0 = left, x1 = Width - right, y0 = top, y1 = Height - bottom;
        if (y1 - y0 < 40 || x1 - x0 < 40) throw new ArgumentException($"chart '{Id}' is too small for its labels; make it larger or shorten the labels.");

        double Px(double x) => x0 + (x - xScale.Min) / (xScale.Max - xScale.Min) * (x1 - x0);
        double Py(double y) => y1 - (y - yScale.Min) / (yScale.Max - yScale.Min) * (y1 - y0);

        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{Id}\" class=\"chart\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-labelledby=\"{Id}-title\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif\" font-size=\"{FontSize}\">\n");
        sb.Append($"<title id=\"{Id}-title\">{Escape(Title)}</title>\n");
        sb.Append($"<defs><clipPath id=\"{Id}-clip\"><rect x=\"{Coordinate(x0)}\" y=\"{Coordinate(y0)}\" width=\"{Coordinate(x1 - x0)}\" height=\"{Coordinate(y1 - y0)}\"/></clipPath></defs>\n");
        sb.Append($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>\n");
        sb.Append($"<text x=\"12\" y=\"{Coordinate(10 + TitleSize)}\" font-size=\"{TitleSize}\" font-weight=\"600\" fill=\"#222\">{Escape(Title)}</text>\n");
        if (Subtitle is not null)
            sb.Append($"<text x=\"12\" y=\"{Coordinate(10 + TitleSize + 6 + FontSize)}\" fill=\"#555\">{Escape(Subtitle)}</text>\n");

        // Grid and ticks.
        sb.Append("<g class=\"grid\" stroke=\"#e3e3e3\" stroke-width=\"1\">\n");
        foreach (var t in yScale.Ticks) sb.Append($"<line x1=\"{Coordinate(x0)}\" x2=\"{Coordinate(x1)}\" y1=\"{Coordinate(Py(t))}\" y2=\"{Coordinate(Py(t))}\"/>\n");
        if (XCategories is null)
            foreach (var t in xScale.Ticks) sb.Append($"<line x1=\"{Coordinate(Px(t))}\" x2=\"{Coordinate(Px(t))}\" y1=\"{Coordinate(y0)}\" y2=\"{Coordinate(y1)}\"/>\n");
        sb.Append("</g>\n");
        sb.Append($"<g class=\"y-ticks\" fill=\"#333\" text-anchor=\"end\">\n");
        foreach (var t in yScale.Ticks) sb.Append($"<text x=\"{Coordinate(x0 - 6)}\" y=\"{Coordinate(Py(t) + FontSize * 0.35)}\">{Escape(yScale.Format(t))}</text>\n");
        sb.Append("</g>\n");
        sb.Append($"<g class=\"x-ticks\" fill=\"#333\" text-anchor=\"{(rotate ? "end" : "middle")}\">\n");
        if (categoryLabels is not null)
        {
            for (int i = 0; i < categoryLabels.Count; i++)
            {
                double x = Px(i), y = y1 + FontSize + 4;
                string transform = rotate ? $" transform=\"rotate(-45 {Coordinate(x)} {Coordinate(y)})\"" : "";
                sb.Append($"<text x=\"{Coordinate(x)}\" y=\"{Coordinate(y)}\"{transform}><title>{Escape(XCategories![i])}</title>{Escape(categoryLabels[i])}</text>\n");
            }
        }
        else
            foreach (var t in xScale.Ticks) sb.Append($"<text x=\"{Coordinate(Px(t))}\" y=\"{Coordinate(y1 + FontSize + 4)}\">{Escape(xScale.Format(t))}</text>\n");
        sb.Append("</g>\n");

        // Layers.
        sb.Append($"<g class=\"layers\" clip-path=\"url(#{Id}-clip)\">\n");
        double baseline = Math.Clamp(0, yScale.Min, yScale.Max);
        foreach (var s in Series)
        {
            switch (s)
            {
                case BarSeries b:
                    sb.Append($"<g class=\"bars\" fill=\"{Escape(b.Color)}\" fill-opacity=\"{Coordinate(b.Opacity)}\" stroke=\"{Escape(b.Color)}\" stroke-width=\"1\">\n");
                    foreach (var bar in b.Bars)
                    {
                        double l = Px(Math.Min(bar.X0, bar.X1)), r = Px(Math.Max(bar.X0, bar.X1));
                        double t = Py(Math.Max(bar.Y, baseline)), bt = Py(Math.Min(bar.Y, baseline));
                        string tip = bar.Tooltip is null ? "" : $"<title>{Escape(bar.Tooltip)}</title>";
                        sb.Append($"<rect x=\"{Coordinate(l)}\" y=\"{Coordinate(t)}\" width=\"{Coordinate(Math.Max(r - l, 0.5))}\" height=\"{Coordinate(Math.Max(bt - t, 0))}\">{tip}</rect>\n");
                    }
                    sb.Append("</g>\n");
                    var errors = b.Bars.Where(x => x.Low.HasValue && x.High.HasValue).ToList();
                    if (errors.Count > 0)
                    {
                        sb.Append("<g class=\"error-bars\" stroke=\"#222\" stroke-width=\"1.5\">\n");
                        foreach (var bar in errors)
                        {
                            double cx = Px((bar.X0 + bar.X1) / 2), cap = Math.Min(6, Math.Abs(Px(bar.X1) - Px(bar.X0)) / 4);
                            double lo = Py(bar.Low!.Value), hi = Py(bar.High!.Value);
                            sb.Append($"<line x1=\"{Coordinate(cx)}\" x2=\"{Coordinate(cx)}\" y1=\"{Coordinate(lo)}\" y2=\"{Coordinate(hi)}\"/>");
                            sb.Append($"<line x1=\"{Coordinate(cx - cap)}\" x2=\"{Coordinate(cx + cap)}\" y1=\"{Coordinate(lo)}\" y2=\"{Coordinate(lo)}\"/>");
                            sb.Append($"<line x1=\"{Coordinate(cx - cap)}\" x2=\"{Coordinate(cx + cap)}\" y1=\"{Coordinate(hi)}\" y2=\"{Coordinate(hi)}\"/>\n");
                        }
                        sb.Append("</g>\n");
                    }
                    break;
                case LineSeries line when line.Points.Count > 0:
                    string dash = line.Dashed ? " stroke-dasharray=\"6 4\"" : "";
                    sb.Append($"<polyline class=\"line\" fill=\"none\" stroke=\"{Escape(line.Color)}\" stroke-width=\"{Coordinate(line.StrokeWidth)}\" stroke-linejoin=\"round\"{dash} points=\"");
                    sb.AppendJoin(' ', line.Points.Select(p => Coordinate(Px(p.X)) + "," + Coordinate(Py(p.Y))));
                    sb.Append("\"/>\n");
                    if (line.Markers)
                    {
                        sb.Append($"<g class=\"markers\" fill=\"{Escape(line.Color)}\" stroke=\"#ffffff\" stroke-width=\"1\">");
                        foreach (var p in line.Points) sb.Append($"<circle cx=\"{Coordinate(Px(p.X))}\" cy=\"{Coordinate(Py(p.Y))}\" r=\"3.5\"/>");
                        sb.Append("</g>\n");
                    }
                    break;
                case ScatterSeries sc:
                    sb.Append($"<g class=\"points\" fill=\"{Escape(sc.Color)}\" fill-opacity=\"{Coordinate(sc.Opacity)}\">");
                    foreach (var p in sc.Points) sb.Append($"<circle cx=\"{Coordinate(Px(p.X))}\" cy=\"{Coordinate(Py(p.Y))}\" r=\"{Coordinate(sc.Radius)}\"/>");
                    sb.Append("</g>\n");
                    break;
            }
        }
        sb.Append("</g>\n");
        if (!hasData)
            sb.Append($"<text x=\"{Coordinate((x0 + x1) / 2)}\" y=\"{Coordinate((y0 + y1) / 2)}\" text-anchor=\"middle\" fill=\"#777\">no data</text>\n");

        // Frame and axis labels.
        sb.Append($"<rect class=\"frame\" x=\"{Coordinate(x0)}\" y=\"{Coordinate(y0)}\" width=\"{Coordinate(x1 - x0)}\" height=\"{Coordinate(y1 - y0)}\" fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n");
        if (XLabel.Length > 0)
            sb.Append($"<text class=\"x-label\" x=\"{Coordinate((x0 + x1) / 2)}\" y=\"{Coordinate(Height - 10)}\" text-anchor=\"middle\" fill=\"#222\" font-size=\"12\">{Escape(XLabel)}</text>\n");
        if (YLabel.Length > 0)
        {
            double cx = 12 + FontSize / 2 + 2, cy = (y0 + y1) / 2;
            sb.Append($"<text class=\"y-label\" x=\"{Coordinate(cx)}\" y=\"{Coordinate(cy)}\" text-anchor=\"middle\" fill=\"#222\" font-size=\"12\" transform=\"rotate(-90 {Coordinate(cx)} {Coordinate(cy)})\">{Escape(YLabel)}</text>\n");
        }

        // Legend.
        if (legendRows.Count > 0)
        {
            sb.Append("<g class=\"legend\" fill=\"#222\">\n");
            for (int row = 0; row < legendRows.Count; row++)
            {
                double y = legendTop + row * (FontSize + 8) + FontSize;
                foreach (var (s, x) in legendRows[row])
                {
                    sb.Append(s switch
                    {
                        LineSeries l => $"<line x1=\"{Coordinate(x)}\" x2=\"{Coordinate(x + 16)}\" y1=\"{Coordinate(y - 4)}\" y2=\"{Coordinate(y - 4)}\" stroke=\"{Escape(l.Color)}\" stroke-width=\"2.5\"{(l.Dashed ? " stroke-dasharray=\"4 3\"" : "")}/>",
                        ScatterSeries p => $"<circle cx=\"{Coordinate(x + 8)}\" cy=\"{Coordinate(y - 4)}\" r=\"4\" fill=\"{Escape(p.Color)}\"/>",
                        BarSeries b => $"<rect x=\"{Coordinate(x + 2)}\" y=\"{Coordinate(y - 10)}\" width=\"12\" height=\"12\" fill=\"{Escape(b.Color)}\" fill-opacity=\"{Coordinate(Math.Max(b.Opacity, 0.6))}\"/>",
                        _ => "",
                    });
                    sb.Append($"<text x=\"{Coordinate(x + 21)}\" y=\"{Coordinate(y)}\">{Escape(s.Name)}</text>\n");
                }
            }
            sb.Append("</g>\n");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>Estimated rendered width of <paramref name="text"/> at the tick font size.</summary>
    static double TextWidth(string text) => text.Length * FontSize * CharWidth;

    static string Truncate(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    List<List<(ChartSeries Series, double X)>> LayoutLegend(List<ChartSeries> legend, double start, double end)
    {
        var rows = new List<List<(ChartSeries, double)>>();
        double x = start;
        foreach (var s in legend)
        {
            double w = 21 + TextWidth(s.Name!) + 16;
            if (rows.Count == 0 || (x + w > end && x > start)) { rows.Add([]); x = start; }
            rows[^1].Add((s, x));
            x += w;
        }
        return rows;
    }

    void Validate()
    {
        foreach (var s in Series)
        {
            void Check(double v, int i, string what)
            {
                if (!double.IsFinite(v))
                    throw new ArgumentException($"chart '{Id}', series '{s.Name}': {what} of item {i} is {v}; drop non-finite values before charting.");
            }
            switch (s)
            {
                case LineSeries l: for (int i = 0; i < l.Points.Count; i++) { Check(l.Points[i].X, i, "x"); Check(l.Points[i].Y, i, "y"); } break;
                case ScatterSeries p: for (int i = 0; i < p.Points.Count; i++) { Check(p.Points[i].X, i, "x"); Check(p.Points[i].Y, i, "y"); } break;
                case BarSeries b:
                    for (int i = 0; i < b.Bars.Count; i++)
                    {
                        var bar = b.Bars[i];
                        Check(bar.X0, i, "x0"); Check(bar.X1, i, "x1"); Check(bar.Y, i, "y");
                        if (bar.Low is { } lo) Check(lo, i, "low");
                        if (bar.High is { } hi) Check(hi, i, "high");
                    }
                    break;
            }
        }
    }

    (AxisScale X, AxisScale Y, bool HasData) Scales()
    {
        var xs = new List<double>();
        var ys = new List<double>();
        foreach (var s in Series)
        {
            switch (s)
            {
                case LineSeries l: foreach (var p in l.Points) { xs.Add(p.X); ys.Add(p.Y); } break;
                case ScatterSeries sc: foreach (var p in sc.Points) { xs.Add(p.X); ys.Add(p.Y); } break;
                case BarSeries b:
                    foreach (var bar in b.Bars)
                    {
                        xs.Add(bar.X0); xs.Add(bar.X1); ys.Add(bar.Y); ys.Add(0);
                        if (bar.Low is { } lo) ys.Add(lo);
                        if (bar.High is { } hi) ys.Add(hi);
                    }
                    break;
            }
        }
        bool hasData = ys.Count > 0;
        AxisScale x;
        if (XCategories is not null)
        {
            var ticks = Enumerable.Range(0, XCategories.Count).Select(i => (double)i).ToList();
            x = new AxisScale(-0.5, Math.Max(XCategories.Count, 1) - 0.5, 1, ticks, 0);
        }
        else if (XRange is { } xr) x = NiceScale.Create(xr.Min, xr.Max, pad: false);
        else x = xs.Count > 0 ? NiceScale.Create(xs.Min(), xs.Max()) : NiceScale.Create(0, 1);
        AxisScale y = YRange is { } yr ? NiceScale.Create(yr.Min, yr.Max, pad: false)
            : ys.Count > 0 ? NiceScale.Create(ys.Min(), ys.Max(), targetTicks: 6) : NiceScale.Create(0, 1);
        return (x, y, hasData);
    }
}
