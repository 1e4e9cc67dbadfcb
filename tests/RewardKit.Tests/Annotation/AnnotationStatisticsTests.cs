using Microsoft.Data.Sqlite;
using RewardKit.Annotation;
using static RewardKit.Testing.AnnotationTestData;

namespace RewardKit.Tests.Annotation;

public class AnnotationStatisticsTests
{
    static AnnotationLabel L(string task, string who, AnnotationAnswer answer, double seconds = 10) =>
        new() { TaskId = task, AnnotatorId = who, Answer = answer, Seconds = seconds, SubmittedUtc = DateTimeOffset.UnixEpoch.AddSeconds(seconds) };

    static AnnotationSnapshot Snapshot(IReadOnlyList<AnnotationTask> tasks, IReadOnlyList<AnnotationLabel> labels, int k = 2) =>
        new(tasks, labels, labels.Select(l => l.AnnotatorId).Distinct().Select(id => new Annotator(id, AnnotatorRole.Annotator, DateTimeOffset.UnixEpoch)).ToList(),
            new AnnotationSettings { AnnotatorsPerTask = k }, null);

    [Fact]
    public void Progress_counts_started_and_complete_tasks_and_the_share_of_wanted_labels()
    {
        var tasks = new[] { Pair("t0"), Pair("t1"), Pair("t2"), Pair("g", gold: PairChoice.A) };
        var labels = new[] { L("t0", "a", Choose(PairChoice.A)), L("t0", "b", Choose(PairChoice.A)), L("t1", "a", Choose(PairChoice.B)), L("g", "a", Choose(PairChoice.A)) };
        var p = AnnotationStatistics.Compute(Snapshot(tasks, labels)).Progress;
        Assert.Equal((3, 1, 4, 2, 1), (p.Tasks, p.GoldTasks, p.Labels, p.TasksStarted, p.TasksComplete));
        Assert.Equal(3 / 6.0, p.Fraction, 12);
    }

    [Fact]
    public void Speed_is_the_median_time_per_label_and_accuracy_the_mean_gold_score()
    {
        var tasks = new[] { Pair("t0"), Pair("g1", gold: PairChoice.A), Pair("g2", gold: PairChoice.B), Ranking("g3", 3, gold: [1, 2, 3]) };
        var labels = new[]
        {
            L("t0", "a", Choose(PairChoice.A), 4), L("g1", "a", Choose(PairChoice.A), 30), L("g2", "a", Choose(PairChoice.A), 8),
            L("g3", "a", new AnnotationAnswer { Ranks = [1, 3, 2] }, 6),
        };
        var a = Assert.Single(AnnotationStatistics.Compute(Snapshot(tasks, labels)).Annotators);
        Assert.Equal(7, a.MedianSeconds!.Value, 12);
        Assert.Equal(3, a.GoldAnswered);
        Assert.Equal((1 + 0 + 2 / 3.0) / 3, a.GoldAccuracy!.Value, 12);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(30), a.LastActiveUtc);
    }

    [Fact]
    public void Agreement_per_mode_uses_the_statistics_on_the_right_items()
    {
        var tasks = new[] { Pair("p0"), Pair("p1"), Pair("p2"), Rating("s0", 2), Rating("s1", 2) };
        AnnotationAnswer R(params int[] r) => new() { Ratings = r };
        var labels = new List<AnnotationLabel>
        {
            L("p0", "a", Choose(PairChoice.A)), L("p0", "b", Choose(PairChoice.A)),
            L("p1", "a", Choose(PairChoice.B)), L("p1", "b", Choose(PairChoice.A)),
            L("p2", "a", Choose(PairChoice.Tie)), L("p2", "b", Choose(PairChoice.Tie)),
            L("s0", "a", R(5, 1)), L("s0", "b", R(4, 1)), L("s1", "a", R(2, 3)), L("s1", "b", R(2, 3)),
        };
        var report = AnnotationStatistics.Compute(Snapshot(tasks, labels));
        var pairwise = report.Agreement.Single(m => m.Mode == AnnotationMode.Pairwise);
        Assert.Equal(3, pairwise.Items);
        var kappa = Agreement.CohenKappa([0, 1, 2], [0, 0, 2]);
        Assert.Equal(kappa, Assert.Single(pairwise.Pairs).Kappa, 12);
        Assert.Equal(AlphaLevel.Nominal, pairwise.AlphaLevel);
        var rating = report.Agreement.Single(m => m.Mode == AnnotationMode.Rating);
        Assert.Equal(AlphaLevel.Ordinal, rating.AlphaLevel);
        Assert.Equal(4, rating.Items); // task × response
        Assert.Equal(Agreement.KrippendorffAlpha([[5, 4], [1, 1], [2, 2], [3, 3]], AlphaLevel.Ordinal), rating.Alpha, 12);
        Assert.Equal(Agreement.FleissKappa([[0, 0, 0, 1, 1], [2, 0, 0, 0, 0], [0, 2, 0, 0, 0], [0, 0, 2, 0, 0]]), rating.FleissKappa, 12);
        Assert.DoesNotContain(report.Agreement, m => m.Mode == AnnotationMode.Ranking);
    }
}
