using Microsoft.Data.Sqlite;
using RewardKit.Annotation;
using RewardKit.IO;
using RewardKit.Inference;
using static RewardKit.Testing.AnnotationTestData;

namespace RewardKit.Tests.Annotation;

public sealed class ActiveLearningTests : IDisposable
{
    readonly List<AnnotationStore> _stores = [];

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var s in _stores) try { Directory.Delete(Path.GetDirectoryName(s.Path)!, true); } catch (IOException) { }
    }

    [Fact]
    public void Uncertainty_is_one_minus_the_certainty_of_the_least_certain_pair()
    {
        Assert.Equal(1, ActiveLearning.Uncertainty([0.3, 0.3], 1), 12);
        Assert.Equal(1 - Math.Tanh(1), ActiveLearning.Uncertainty([2, 0], 1), 12);          // |2σ(x) − 1| = tanh(x / 2)
        Assert.Equal(1 - Math.Tanh(0.5), ActiveLearning.Uncertainty([2, 0], 2), 12);        // temperature 2 halves the gap
        Assert.Equal(1 - Math.Tanh(0.05), ActiveLearning.Uncertainty([0, 5, 0.1], 1), 12);  // the close pair decides
        Assert.Throws<ArgumentException>(() => ActiveLearning.Uncertainty([1], 1));
    }

    static RewardScorer FakeScorer() => new(new FakeRewardModel(new RewardModelMetadata { Name = "fake", Version = "v1" }));

    [Fact]
    public void The_queue_serves_the_tasks_the_model_is_least_sure_about_first()
    {
        AnnotationTask[] tasks =
        [
            Pair("sure", "helpful helpful helpful", "harmful harmful harmful"),
            Pair("fairly-sure", "helpful", "plain words"),
            Pair("coin-flip", "same words", "same words"),
            Ranking("ranked", 3),
        ];
        var store = Store(tasks, k: 1);
        _stores.Add(store);
        var scores = ActiveLearning.Score(FakeScorer(), tasks);
        var info = new ModelInfo("fake", "v1", "/models/fake", DateTimeOffset.UnixEpoch, 0);
        store.ImportScores(info, scores);
        Assert.Equal(1, scores.Single(s => s.TaskId == "coin-flip").Uncertainty, 12);
        var expected = scores.OrderByDescending(s => s.Uncertainty).Select(s => s.TaskId).ToList();
        Assert.Equal("coin-flip", expected[0]);
        Assert.Equal("sure", expected[^1]);

        store.Invite("ann", AnnotatorRole.Annotator);
        var served = new List<string>();
        while (store.NextTask("ann") is { } t)
        {
            served.Add(t.Id);
            store.Submit(t.Id, "ann", t.Mode == AnnotationMode.Pairwise ? Choose(PairChoice.A) : new AnnotationAnswer { Ranks = [1, 2, 3] }, null);
        }
        Assert.Equal(expected, served);
        Assert.Equal(info with { TasksScored = 4 }, store.Model());
    }

    [Fact]
    public void Importing_another_model_reorders_the_queue_from_the_next_hand_out()
    {
        var store = Store([Pair("a"), Pair("b"), Pair("c")], k: 1);
        _stores.Add(store);
        store.Invite("ann", AnnotatorRole.Annotator);
        var first = new ModelInfo("m1", "v1", "/m1", DateTimeOffset.UnixEpoch, 0);
        store.ImportScores(first, [new TaskScore("a", 0.1, [0, 3]), new TaskScore("b", 0.9, [0, 0.2]), new TaskScore("c", 0.5, [0, 1])]);
        Assert.Equal("b", store.NextTask("ann")!.Id);
        store.Submit("b", "ann", Choose(PairChoice.A), null);
        store.ImportScores(first with { Name = "m2" }, [new TaskScore("a", 0.95, [0, 0.1]), new TaskScore("b", 0.2, [0, 2]), new TaskScore("c", 0.3, [0, 1.5])]);
        Assert.Equal("a", store.NextTask("ann")!.Id);
        Assert.Equal("m2", store.Model()!.Name);
        Assert.Contains("'zzz' is not in", Assert.Throws<ArgumentException>(() => store.ImportScores(first, [new TaskScore("zzz", 0.5, [0, 0])])).Message);
        Assert.Equal("m2", store.Model()!.Name); // the failed import changed nothing
    }

    [Fact]
    public void Import_model_scores_every_task_of_the_store_and_reports_progress()
    {
        var store = Store(Enumerable.Range(0, 70).Select(i => Pair($"t{i}", $"answer {i}", "helpful")), k: 1);
        _stores.Add(store);
        var reported = new List<int>();
        var info = ActiveLearning.ImportModel(store, FakeScorer(), "/models/fake", new SyncProgress(reported));
        Assert.Equal((70, "fake", "v1"), (info.TasksScored, info.Name, info.Version));
        Assert.Equal([32, 64, 70], reported);
    }

    sealed class SyncProgress(List<int> seen) : IProgress<int>
    {
        public void Report(int value) => seen.Add(value);
    }
}
