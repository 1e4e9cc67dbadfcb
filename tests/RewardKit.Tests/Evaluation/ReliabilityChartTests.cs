using System.Xml.Linq;
using RewardKit.Evaluation;
using RewardKit.Reports;

namespace RewardKit.Tests.Evaluation;

public class ReliabilityChartTests
{
    [Fact]
    public void Reliability_diagram_has_a_bar_per_nonempty_bin_and_the_diagonal()
    {
        var bins = new List<ReliabilityBin> { new(0.5, 0.6, 10, 0.55, 0.5), new(double.NaN, double.NaN, 0, double.NaN, double.NaN), new(0.7, 0.95, 10, 0.8, 0.9) };
        var chart = ReliabilityChart.Create("r", "rel", bins);
        var bars = ((BarSeries)chart.Series[0]).Bars;
        Assert.Equal(2, bars.Count);
        Assert.Equal([0.5, 0.65, 0.65, 1.0], new[] { bars[0].X0, bars[0].X1, bars[1].X0, bars[1].X1 }.Select(x => Math.Round(x, 9)));
        Assert.Equal([new ChartPoint(0.5, 0.5), new ChartPoint(1, 1)], ((LineSeries)chart.Series[1]).Points);
        XDocument.Parse(chart.Render());
    }
}
