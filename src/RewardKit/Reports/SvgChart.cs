using System.Text.RegularExpressions;
using ScottPlot;
using static RewardKit.Reports.MarkupText;

namespace RewardKit.Reports;

/// <summary>
/// A chart described by its title, axis labels, ranges and layers (<see cref="LineSeries"/>, <see cref="ScatterSeries"/>,
/// <see cref="BarSeries"/>, drawn in order), rendered to an inline SVG element by ScottPlot. The x axis is numeric, or
/// categorical when <see cref="XCategories"/> is set (category i sits at x = i). Output depends only on the inputs (and on
/// the fonts ScottPlot measures text with): ids inside the SVG are prefixed with <see cref="Id"/> so several charts can
/// share one page.
/// </summary>
/// <example><code>
/// var chart = SvgChart.Line("loss", "Training loss", "step", "loss", new LineSeries("loss", ChartPalette.Blue, points));
/// string svg = chart.Render();
/// </code></example>
public sealed partial class SvgChart
{
    /// <summary>Element id of the &lt;svg&gt;; unique within a page (ids inside derive from it). Letters, digits, '-' and '_'.</summary>
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
    /// <summary>Fixed x range, or null to fit the data.</summary>
    public (double Min, double Max)? XRange { get; init; }
    /// <summary>Fixed y range, or null to fit the data.</summary>
    public (double Min, double Max)? YRange { get; init; }
    /// <summary>Category labels for a categorical x axis (category i at x = i), or null for a numeric axis.</summary>
    public IReadOnlyList<string>? XCategories { get; init; }
    /// <summary>Layers, drawn in order (later on top); the legend lists named ones in the same order.</summary>
    public List<ChartSeries> Series { get; init; } = [];

    /// <summary>Longest category label drawn; longer ones end in "…".</summary>
    const int MaxCategoryLabel = 18;

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]*$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^(<\\?xml[^>]*\\?>\\s*)?<svg\\b[^>]*>")]
    private static partial Regex SvgOpening();

    [GeneratedRegex("(id=\"|url\\(#|href=\"#)([A-Za-z0-9_-]+)")]
    private static partial Regex InnerIds();

    [GeneratedRegex("font-family=\"([^\"]*)\"")]
    private static partial Regex FontFamily();

    [GeneratedRegex(">\\s+([^<]*?)\\s+</text>")]
    private static partial Regex PaddedText();

    /// <summary>
    /// The first installed of the fonts the page's CSS asks for (ScottPlot's own sans-serif lookup picks a serif font on
    /// Debian); ScottPlot's default when none is installed. Text stays text in the SVG, so a browser draws it either way.
    /// </summary>
    static readonly Lazy<string> FontName = new(() =>
        new[] { "Segoe UI", "Roboto", "DejaVu Sans", "Liberation Sans", "Helvetica", "Arial" }
            .FirstOrDefault(f => SkiaSharp.SKFontManager.Default.MatchFamily(f) is not null) ?? Fonts.Default);

    /// <summary>The chart as a standalone &lt;svg&gt; element (valid XML) with a viewBox, a title and role="img".</summary>
    public string Render()
    {
        if (!IdPattern().IsMatch(Id ?? "")) throw new ArgumentException($"chart id '{Id}' must start with a letter and hold only letters, digits, '-' and '_'.", nameof(Id));
        if (Width < 160 || Height < 120) throw new ArgumentException($"chart '{Id}' is {Width}×{Height} px; use at least 160×120.");
        Validate();
        using var plot = BuildPlot();
        return Wrap(plot.GetSvgXml(Width, Height));
    }

    /// <summary>The chart as PNG bytes (for files and tests that look at pixels).</summary>
    public byte[] RenderPng()
    {
        Validate();
        using var plot = BuildPlot();
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    Plot BuildPlot()
    {
        var plot = new Plot();
        plot.Font.Set(FontName.Value);
        plot.Title(Subtitle is null ? Title : Title + "\n" + Subtitle, size: 15);
        plot.XLabel(XLabel, size: 12);
        plot.YLabel(YLabel, size: 12);
        foreach (var s in Series)
            switch (s)
            {
                case BarSeries b: AddBars(plot, b); break;
                case LineSeries l: AddLine(plot, l); break;
                case ScatterSeries p: AddPoints(plot, p); break;
            }
        if (!HasData())
        {
            var note = plot.Add.Annotation("no data", Alignment.MiddleCenter);
            note.LabelBackgroundColor = Colors.Transparent;
            note.LabelBorderColor = Colors.Transparent;
            note.LabelShadowColor = Colors.Transparent;
            note.LabelFontColor = Color.FromHex("#777777");
        }
        if (XCategories is { } categories) SetCategoryTicks(plot, categories);
        if (Series.Any(s => !string.IsNullOrEmpty(s.Name)))
        {
            plot.ShowLegend(Edge.Top);
            plot.Legend.Orientation = Orientation.Horizontal;
            plot.Legend.OutlineWidth = 0;
            plot.Legend.ShadowColor = Colors.Transparent;
        }
        plot.Axes.AutoScale();
        var limits = plot.Axes.GetLimits();
        var x = XRange ?? (XCategories is { } c ? (-0.5, Math.Max(c.Count, 1) - 0.5) : (limits.Left, limits.Right));
        var y = YRange ?? (HasData() ? (limits.Bottom, limits.Top) : (0, 1));
        if (!HasData() && XRange is null && XCategories is null) x = (0, 1);
        plot.Axes.SetLimits(x.Min, x.Max, y.Min, y.Max);
        return plot;
    }

    static Color ColorOf(string css, double opacity = 1) => Color.FromHex(css).WithAlpha(opacity);

    static void AddBars(Plot plot, BarSeries series)
    {
        var fill = ColorOf(series.Color, series.Opacity);
        var line = ColorOf(series.Color);
        var bars = series.Bars.Select(b => new Bar
        {
            Position = (b.X0 + b.X1) / 2, Size = Math.Abs(b.X1 - b.X0), Value = b.Y,
            FillColor = fill, LineColor = line, LineWidth = 1,
        }).ToList();
        var plottable = plot.Add.Bars(bars);
        plottable.LegendText = series.Name ?? "";
        var errors = series.Bars.Where(b => b.Low.HasValue && b.High.HasValue).ToList();
        if (errors.Count == 0) return;
        var error = plot.Add.ErrorBar(errors.Select(b => (b.X0 + b.X1) / 2).ToList(), errors.Select(b => b.Y).ToList(),
            errors.Select(b => Math.Max(0, b.Y - b.Low!.Value)).ToList());
        error.YErrorPositive = errors.Select(b => Math.Max(0, b.High!.Value - b.Y)).ToList();
        error.Color = Color.FromHex("#222222");
        error.LineWidth = 1.5f;
        error.CapSize = 6;
    }

    static void AddLine(Plot plot, LineSeries series)
    {
        if (series.Points.Count == 0) return;
        var line = plot.Add.ScatterLine(series.Points.Select(p => p.X).ToArray(), series.Points.Select(p => p.Y).ToArray(), ColorOf(series.Color));
        line.LineWidth = (float)series.StrokeWidth;
        line.LinePattern = series.Dashed ? LinePattern.Dashed : LinePattern.Solid;
        line.MarkerShape = series.Markers ? MarkerShape.FilledCircle : MarkerShape.None;
        line.MarkerSize = series.Markers ? 7 : 0;
        line.LegendText = series.Name ?? "";
    }

    static void AddPoints(Plot plot, ScatterSeries series)
    {
        var points = plot.Add.ScatterPoints(series.Points.Select(p => p.X).ToArray(), series.Points.Select(p => p.Y).ToArray(),
            ColorOf(series.Color, series.Opacity));
        points.MarkerSize = (float)(2 * series.Radius);
        points.LegendText = series.Name ?? "";
    }

    static void SetCategoryTicks(Plot plot, IReadOnlyList<string> categories)
    {
        var labels = categories.Select(c => c.Length <= MaxCategoryLabel ? c : c[..(MaxCategoryLabel - 1)] + "…").ToArray();
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, labels.Length).Select(i => (double)i).ToArray(), labels);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Grid.XAxisStyle.MajorLineStyle.Width = 0;
        if (labels.Length == 0 || labels.Max(l => l.Length) * 7 + 6 <= 420.0 / labels.Length) return;
        plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        // ScottPlot sizes the axes for level labels: make room below for the rotated ones, and left of the first, which hangs left.
        plot.Axes.Bottom.MinimumSize = labels.Max(l => l.Length) * 7 * 0.71f + 30;
        plot.Axes.Left.MinimumSize = labels[0].Length * 7 * 0.71f;
    }

    bool HasData() => Series.Any(s => s switch
    {
        LineSeries l => l.Points.Count > 0,
        ScatterSeries p => p.Points.Count > 0,
        BarSeries b => b.Bars.Count > 0,
        _ => false,
    });

    /// <summary>
    /// ScottPlot's document made fit to inline in HTML: no XML declaration; an opening tag with the id, a viewBox (so CSS
    /// can scale it), role="img" and a &lt;title&gt;; inner ids prefixed with the chart id (clip paths of several charts on
    /// one page must not collide) and numbered per chart, so the output is the same every time; text without the
    /// indentation ScottPlot puts around it; generic fallbacks after the measured font, for a browser without it.
    /// </summary>
    string Wrap(string svg)
    {
        var match = SvgOpening().Match(svg);
        if (!match.Success) throw new InvalidOperationException($"chart '{Id}': the renderer returned no <svg> element.");
        string body = svg[match.Length..];
        var ids = new Dictionary<string, int>(); // ScottPlot numbers clip paths from a process-wide counter: renumber from 1
        body = InnerIds().Replace(body, m =>
        {
            if (!ids.TryGetValue(m.Groups[2].Value, out int n)) ids[m.Groups[2].Value] = n = ids.Count + 1;
            return $"{m.Groups[1].Value}{Id}-c{n}";
        });
        body = PaddedText().Replace(body, ">$1</text>");
        body = FontFamily().Replace(body, m => $"font-family=\"{m.Groups[1].Value}, system-ui, sans-serif\"");
        return $"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{Id}\" class=\"chart\" width=\"{Width}\" height=\"{Height}\" " +
               $"viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-labelledby=\"{Id}-title\">\n" +
               $"<title id=\"{Id}-title\">{Escape(Title)}</title>" + body.TrimEnd();
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
}
