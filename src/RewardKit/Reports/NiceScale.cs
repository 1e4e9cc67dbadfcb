using System.Globalization;

namespace RewardKit.Reports;

/// <summary>An axis range with "nice" ticks (multiples of 1, 2 or 5 × 10^k) and the decimals needed to print them.</summary>
/// <param name="Min">Lower end of the axis.</param>
/// <param name="Max">Upper end of the axis.</param>
/// <param name="Step">Distance between ticks.</param>
/// <param name="Ticks">Tick values inside [Min, Max], ascending.</param>
/// <param name="Decimals">Decimals that print every tick exactly.</param>
public sealed record AxisScale(double Min, double Max, double Step, IReadOnlyList<double> Ticks, int Decimals)
{
    /// <summary>A tick label: invariant culture, <see cref="Decimals"/> decimals, no "-0".</summary>
    public string Format(double value)
    {
        var s = value.ToString("F" + Decimals, CultureInfo.InvariantCulture);
        return s.TrimStart('-').All(c => c == '0' || c == '.') ? s.TrimStart('-') : s;
    }
}

/// <summary>Nice axis ranges and ticks for charts.</summary>
public static class NiceScale
{
    /// <summary>
    /// A scale covering [min, max] with about <paramref name="targetTicks"/> ticks. With <paramref name="pad"/> the ends
    /// are widened to the enclosing ticks; without it the ends stay as given (for fixed ranges such as [0, 1]).
    /// A degenerate range (min = max) is widened around the value.
    /// </summary>
    public static AxisScale Create(double min, double max, int targetTicks = 6, bool pad = true)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max))
            throw new ArgumentException($"axis range [{min}, {max}] is not finite; remove non-finite values before charting.");
        if (min > max) (min, max) = (max, min);
        if (targetTicks < 2) throw new ArgumentException($"targetTicks must be at least 2 (got {targetTicks}).", nameof(targetTicks));
        if (max - min <= Math.Max(Math.Abs(min), Math.Abs(max)) * 1e-12)
        {
            double half = min == 0 ? 0.5 : Math.Abs(min) * 0.1;
            min -= half; max += half;
        }
        double step = NiceNumber((max - min) / (targetTicks - 1));
        if (pad)
        {
            min = Math.Floor(min / step + 1e-9) * step;
            max = Math.Ceiling(max / step - 1e-9) * step;
        }
        var ticks = new List<double>();
        long first = (long)Math.Ceiling(min / step - 1e-9), last = (long)Math.Floor(max / step + 1e-9);
        for (long k = first; k <= last; k++) ticks.Add(k * step);
        int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
        return new AxisScale(min, max, step, ticks, decimals);
    }

    /// <summary>The nice number (1, 2, 5 or 10 × 10^k) nearest to <paramref name="x"/> &gt; 0.</summary>
    public static double NiceNumber(double x)
    {
        if (!(x > 0) || !double.IsFinite(x)) throw new ArgumentException($"NiceNumber needs a positive finite value (got {x}).", nameof(x));
        double exp = Math.Floor(Math.Log10(x));
        double f = x / Math.Pow(10, exp);
        double nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
        return nice * Math.Pow(10, exp);
    }
}
