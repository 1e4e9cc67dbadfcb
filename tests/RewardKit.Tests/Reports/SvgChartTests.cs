using System.Xml.Linq;
using RewardKit.Reports;

namespace RewardKit.Tests.Reports;

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
    public void Long_category_labels_are_rotated_and_truncated()
    {
        var values = Enumerable.Range(0, 8).Select(i => new CategoryValue($"a rather long category name {i}", 0.6, 0.5, 0.7)).ToList();
        var doc = Parse(SvgChart.CategoryBars("cb", "cats", "accuracy", values, ChartPalette.Green, yRange: (0, 1)));
        var labels = doc.Descendants().Where(e => e.Name.LocalName == "text" && e.Value.StartsWith("a rather long", StringComparison.Ordinal)).ToList();
        Assert.Equal(8, labels.Count);
        Assert.All(labels, l => Assert.Equal("a rather long cat…", l.Value));
        Assert.All(labels, l => Assert.StartsWith("matrix(0.707107 -0.707107", l.Attribute("transform")?.Value)); // rotated by -45°
    }

    [Fact]
    public void Charts_on_one_page_have_ids_of_their_own_and_render_the_same_every_time()
    {
        var a = SvgChart.Line("first", "a", "x", "y", new LineSeries("s", ChartPalette.Blue, [new(0, 0), new(1, 1)]));
        var b = SvgChart.Line("second", "b", "x", "y", new LineSeries("s", ChartPalette.Blue, [new(0, 0), new(1, 1)]));
        static List<string> Ids(string svg) => XDocument.Parse(svg).Descendants().Select(e => (string?)e.Attribute("id")).OfType<string>().ToList();
        var ids = Ids(a.Render()).Concat(Ids(b.Render())).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(Ids(a.Render()), id => Assert.StartsWith("first", id));
        Assert.Equal(a.Render(), a.Render());
    }

    [Fact]
    public void A_chart_renders_to_png_too()
    {
        var png = SvgChart.Scatter("p", "points", "x", "y", new ScatterSeries("pts", ChartPalette.Purple, [new(0, 1), new(2, 3)])).RenderPng();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
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
