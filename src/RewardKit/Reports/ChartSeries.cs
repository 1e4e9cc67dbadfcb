namespace RewardKit.Reports;

/// <summary>A data point in chart coordinates.</summary>
public readonly record struct ChartPoint(double X, double Y);

/// <summary>One bar spanning [X0, X1] from the baseline (0, clamped to the axis) to Y, with an optional error bar [Low, High].</summary>
/// <param name="X0">Left edge in x units (category index units on a categorical axis).</param>
/// <param name="X1">Right edge.</param>
/// <param name="Y">Bar height.</param>
/// <param name="Low">Lower end of the error bar, or null.</param>
/// <param name="High">Upper end of the error bar, or null.</param>
/// <param name="Tooltip">Hover text, or null.</param>
public sealed record ChartBar(double X0, double X1, double Y, double? Low = null, double? High = null, string? Tooltip = null);

/// <summary>A chart layer. A null or empty <see cref="Name"/> keeps it out of the legend.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Color">CSS colour, e.g. "#0072B2".</param>
public abstract record ChartSeries(string? Name, string Color);

/// <summary>A polyline through points in the given order.</summary>
public sealed record LineSeries(string? Name, string Color, IReadOnlyList<ChartPoint> Points) : ChartSeries(Name, Color)
{
    /// <summary>Draw a circle at every point. Default false.</summary>
    public bool Markers { get; init; }
    /// <summary>Dashed stroke. Default false.</summary>
    public bool Dashed { get; init; }
    /// <summary>Stroke width in px. Default 2.</summary>
    public double StrokeWidth { get; init; } = 2;
}

/// <summary>Unconnected circles.</summary>
public sealed record ScatterSeries(string? Name, string Color, IReadOnlyList<ChartPoint> Points) : ChartSeries(Name, Color)
{
    /// <summary>Circle radius in px. Default 2.5.</summary>
    public double Radius { get; init; } = 2.5;
    /// <summary>Fill opacity in [0, 1]. Default 0.45.</summary>
    public double Opacity { get; init; } = 0.45;
}

/// <summary>Rectangles (bars, histogram bins, reliability bins), optionally with error bars.</summary>
public sealed record BarSeries(string? Name, string Color, IReadOnlyList<ChartBar> Bars) : ChartSeries(Name, Color)
{
    /// <summary>Fill opacity in [0, 1]. Default 0.8; overlaid histograms use about 0.45.</summary>
    public double Opacity { get; init; } = 0.8;
}

/// <summary>The colour-blind-safe palette (Okabe and Ito) the report uses.</summary>
public static class ChartPalette
{
    /// <summary>Blue.</summary>
    public const string Blue = "#0072B2";
    /// <summary>Vermillion.</summary>
    public const string Vermillion = "#D55E00";
    /// <summary>Bluish green.</summary>
    public const string Green = "#009E73";
    /// <summary>Orange.</summary>
    public const string Orange = "#E69F00";
    /// <summary>Reddish purple.</summary>
    public const string Purple = "#CC79A7";
    /// <summary>Neutral grey for reference lines.</summary>
    public const string Grey = "#777777";
}
