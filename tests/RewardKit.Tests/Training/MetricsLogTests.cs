using RewardKit.Training;

namespace RewardKit.Tests.Training;

public sealed class MetricsLogTests : IDisposable
{
    readonly string _dir = TrainingTestData.NewFolder();

    /// <summary>Deletes the test folder.</summary>
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_fresh_log_is_empty_and_a_resumed_one_keeps_the_accepted_rows_in_order()
    {
        var path = Path.Combine(_dir, "metrics.jsonl");
        File.WriteAllText(path, "{\"step\":1,\"loss\":0.5}\n{\"step\":2,\"loss\":0.25}\n{\"step\":3,\"loss\":0.125}\n");
        var seen = new List<IReadOnlyDictionary<string, double>>();
        using (var log = MetricsLog.Open(path, row => row["step"] <= 2, seen.Add))
            log.Write(new Dictionary<string, double> { ["step"] = 3, ["loss"] = 0.1 });

        Assert.Equal(["{\"step\":1,\"loss\":0.5}", "{\"step\":2,\"loss\":0.25}", "{\"step\":3,\"loss\":0.1}"], File.ReadAllLines(path));
        Assert.Equal(0.1, Assert.Single(seen)["loss"]);
        using (MetricsLog.Open(path, keep: null)) { }
        Assert.Equal("", File.ReadAllText(path));
    }

    [Fact]
    public void A_line_cut_short_by_a_kill_is_dropped_but_a_damaged_earlier_line_is_an_error_naming_it()
    {
        var path = Path.Combine(_dir, "metrics.jsonl");
        File.WriteAllText(path, "{\"step\":1,\"loss\":0.5}\n{\"step\":2,\"lo");
        using (MetricsLog.Open(path, _ => true)) { }
        Assert.Equal(["{\"step\":1,\"loss\":0.5}"], File.ReadAllLines(path));

        File.WriteAllText(path, "{\"step\":1,\"loss\":0.5}\n{\"step\":2,\"lo\n{\"step\":3,\"loss\":0.5}\n");
        var e = Assert.Throws<InvalidDataException>(() => MetricsLog.Open(path, _ => true));
        Assert.Contains("metrics.jsonl:2", e.Message);
    }
}
