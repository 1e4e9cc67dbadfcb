using System.Xml.Linq;
using RewardKit.Reports;

namespace RewardKit.Tests.Reports;

public class NiceScaleTests
{
    [Fact]
    public void Ticks_are_nice_multiples_that_cover_the_data()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 2000; trial++)
        {
            double a = (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-4, 6)), b = a + rng.NextDouble() * Math.Pow(10, rng.Next(-4, 6));
            var s = NiceScale.Create(a, b);
            double slack = 1e-6 * s.Step; // ends may sit within a millionth of a step inside the data (rounding)
            Assert.True(s.Min <= a + slack && s.Max >= b - slack, $"[{s.Min}, {s.Max}] does not cover [{a}, {b}]");
            Assert.InRange(s.Ticks.Count, 3, 12);
            double mantissa = s.Step / Math.Pow(10, Math.Floor(Math.Log10(s.Step) + 1e-9));
            Assert.Contains(Math.Round(mantissa, 6), new[] { 1.0, 2.0, 5.0 });
            Assert.Equal(s.Ticks.Count, s.Ticks.Select(s.Format).Distinct().Count()); // labels distinguish every tick
        }
    }

    [Fact]
    public void A_fixed_range_keeps_its_ends_and_a_flat_range_is_widened()
    {
        var s = NiceScale.Create(0.5, 1, pad: false);
        Assert.Equal((0.5, 1.0), (s.Min, s.Max));
        Assert.Equal(["0.5", "0.6", "0.7", "0.8", "0.9", "1.0"], s.Ticks.Select(s.Format));
        var flat = NiceScale.Create(3, 3);
        Assert.True(flat.Min < 3 && flat.Max > 3);
        Assert.Equal("0.0", NiceScale.Create(-1, 1).Format(-1e-17));
        Assert.Throws<ArgumentException>(() => NiceScale.Create(0, double.NaN));
    }
}

public class SvgChartTests
{
    static XDocument Parse(SvgChart chart) => XDocument.Parse(chart.Render());

    [Fact]
    public void Text_is_escaped_and_invalid_xml_characters_are_replaced()
    {
        var chart = SvgChart.Line("c1", "a < b & \"c\" 'd'\u0001", "x > y", "y", new LineSeries("</text><script>", ChartPalette.Blue, [new(0, 0), new(1, 1)]));
        var doc = Parse(chart);
        Assert.Equal("a < b & \"c\" 'd'\uFFFD", doc.Root!.Elements().First(e => e.Name.LocalName == "title").Value);
        Assert.DoesNotContain(doc.Descendants(), e => e.Name.LocalName == "script");
        Assert.Contains(doc.Descendants(), e => e.Name.LocalName == "text" && e.Value == "</text><script>");
    }

    [Fact]
    public void Histogram_bins_are_shared_and_count_every_value()
    {
        var rng = new Random(5);
        var a = Enumerable.Range(0, 500).Select(_ => rng.NextDouble() * 3).ToList();
        var b = Enumerable.Range(0, 300).Select(_ => rng.NextDouble() * 3 + 1).ToList();
        var chart = SvgChart.Histogram("h", "hist", "x", [new HistogramSample("a", ChartPalette.Blue, a), new HistogramSample("b", ChartPalette.Orange, b)], bins: 20);
        var bars = chart.Series.Cast<BarSeries>().ToList();
        Assert.Equal(bars[0].Bars.Select(x => (x.X0, x.X1)), bars[1].Bars.Select(x => (x.X0, x.X1)));
        Assert.Equal(500, bars[0].Bars.Sum(x => x.Y));
        Assert.Equal(300, bars[1].Bars.Sum(x => x.Y));
        Assert.True(bars[0].Bars[0].X0 <= 0 && bars[0].Bars[^1].X1 >= 4);
        Parse(chart);
    }

    [Fact]
    public void Long_category_labels_are_rotated_and_truncated_with_the_full_name_kept()
    {
        var values = Enumerable.Range(0, 8).Select(i => new CategoryValue($"a rather long category name {i}", 0.6, 0.5, 0.7)).ToList();
        var doc = Parse(SvgChart.CategoryBars("cb", "cats", "accuracy", values, ChartPalette.Green, yRange: (0, 1)));
        var labels = doc.Descendants().Where(e => e.Name.LocalName == "text" && e.Parent!.Attribute("class")?.Value == "x-ticks").ToList();
        Assert.Equal(8, labels.Count);
        Assert.All(labels, l => Assert.StartsWith("rotate(-45", l.Attribute("transform")?.Value));
        Assert.All(labels, l => Assert.EndsWith("…", l.Nodes().OfType<XText>().Single().Value));
        Assert.Equal("a rather long category name 0", labels[0].Elements().Single().Value);
    }

    [Fact]
    public void Non_finite_data_and_bad_ids_are_rejected_with_the_series_named()
    {
        var e = Assert.Throws<ArgumentException>(() => SvgChart.Scatter("s", "t", "x", "y", new ScatterSeries("pts", "#000", [new(1, double.NaN)])).Render());
        Assert.Contains("pts", e.Message);
        Assert.Throws<ArgumentException>(() => SvgChart.Line("1 bad id", "t", "x", "y").Render());
    }

    [Fact]
    public void An_empty_chart_still_renders_axes_and_says_no_data()
    {
        var doc = Parse(SvgChart.Line("e", "empty", "x", "y"));
        Assert.Contains(doc.Descendants(), e => e.Name.LocalName == "text" && e.Value == "no data");
    }
}
