using RewardKit.Quickstart;
using RewardKit.Training;

namespace RewardKit.Tests.Quickstart;

public sealed class QuickstartPipelineTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-quickstart-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void The_pipeline_generates_trains_calibrates_and_evaluates_with_both_baselines_in_the_report()
    {
        var lines = new List<string>();
        var result = QuickstartPipeline.Run(new QuickstartOptions { Pairs = 1000, MaxSteps = 60, Threads = 2 }, _dir,
            new SyncProgress(p => { if (p.Message is not null) lines.Add(p.Message); }));
        Assert.NotNull(result.ModelDirectory);
        Assert.NotNull(result.Calibration);
        var report = result.Evaluation!.Report;
        Assert.NotNull(report.ResponseOnlyBaselineAccuracy);   // an evaluation option, filled by the evaluation itself
        Assert.InRange(report.LengthBias.LengthBaselineAccuracy, 0, 1);
        Assert.InRange(result.BayesOptimalAccuracy, 0.5, 1);
        Assert.Equal(3, result.Reports.Count);
        Assert.Contains("\"response_only_baseline_accuracy\"", File.ReadAllText(Path.Combine(_dir, "report", "report.json")));
        Assert.Contains(lines, l => l.StartsWith("4/4", StringComparison.Ordinal));
    }

    [Fact]
    public void Too_few_pairs_are_refused_naming_the_flag()
    {
        var e = Assert.Throws<ArgumentException>(() => QuickstartPipeline.Run(new QuickstartOptions { Pairs = 10 }, _dir));
        Assert.Contains("--pairs 10", e.Message);
    }

    sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
