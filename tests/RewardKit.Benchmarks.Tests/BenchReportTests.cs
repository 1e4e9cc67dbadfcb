using System.Text.Json;
using RewardKit.Benchmarks;

namespace RewardKit.Benchmarks.Tests;

public class BenchReportTests
{
    [Fact]
    public void The_json_line_keeps_field_order_and_rounds_to_four_decimals()
    {
        var line = new BenchReport().Set("preset", "tiny").Set("params", 12L).Set("rate", 1.234567).Set("rounds", new[] { 1.00004, 2.5 })
            .Set("missing", double.NaN).Set("rate", 2.0000001).ToJsonLine();
        Assert.DoesNotContain('\n', line);
        using var doc = JsonDocument.Parse(line);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["preset", "params", "rate", "rounds", "missing"], names);
        Assert.Equal(2.0, doc.RootElement.GetProperty("rate").GetDouble());
        Assert.Equal(1.0, doc.RootElement.GetProperty("rounds")[0].GetDouble());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("missing").ValueKind);
    }
}
