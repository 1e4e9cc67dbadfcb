using Microsoft.Data.Sqlite;
using RewardKit.Annotation;
using static RewardKit.Testing.AnnotationTestData;

namespace RewardKit.Tests.Annotation;

public sealed class AnnotationStoreTests : IDisposable
{
    readonly List<string> _folders = [];

    AnnotationStore New(IEnumerable<AnnotationTask> tasks, int k = 2, int goldEvery = 0, TimeProvider? time = null)
    {
        var store = Store(tasks, k, goldEvery, time);
        _folders.Add(Path.GetDirectoryName(store.Path)!);
        return store;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var f in _folders) try { Directory.Delete(f, true); } catch (IOException) { }
    }

    static List<string> Drain(AnnotationStore store, string annotator)
    {
        var done = new List<string>();
        while (store.NextTask(annotator) is { } task)
        {
            Assert.Equal(SubmitOutcome.Stored, store.Submit(task.Id, annotator, Answer(task), null));
            done.Add(task.Id);
        }
        return done;
    }

    static AnnotationAnswer Answer(AnnotationTask task) => task.Mode switch
    {
        AnnotationMode.Pairwise => Choose(PairChoice.A),
        AnnotationMode.Ranking => new AnnotationAnswer { Ranks = Enumerable.Range(1, task.Responses.Count).ToArray() },
        _ => new AnnotationAnswer { Ratings = task.Responses.Select(_ => 4).ToArray() },
    };

    [Fact]
    public void Each_task_goes_to_exactly_k_annotators()
    {
        var store = New(Enumerable.Range(0, 5).Select(i => Pair($"t{i}")), k: 2);
        foreach (var id in new[] { "ann1", "ann2", "ann3" }) store.Invite(id, AnnotatorRole.Annotator);
        var first = Drain(store, "ann1");
        var second = Drain(store, "ann2");
        var third = Drain(store, "ann3");
        Assert.Equal(5, first.Count);
        Assert.Equal(5, second.Count);
        Assert.Empty(third);
        var labels = store.Snapshot().Labels;
        Assert.All(labels.GroupBy(l => l.TaskId), g => Assert.Equal(2, g.Count()));
    }

    [Fact]
    public void Concurrent_annotators_never_take_more_than_k_slots_of_a_task()
    {
        var store = New(Enumerable.Range(0, 20).Select(i => Pair($"t{i}")), k: 3);
        var ids = Enumerable.Range(0, 8).Select(i => $"ann{i}").ToArray();
        foreach (var id in ids) store.Invite(id, AnnotatorRole.Annotator);
        Parallel.ForEach(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, id => Drain(store, id));
        var perTask = store.Snapshot().Labels.GroupBy(l => l.TaskId).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(20, perTask.Count);
        Assert.All(perTask.Values, n => Assert.Equal(3, n));
    }

    [Fact]
    public void An_open_hand_out_is_returned_again_until_it_is_answered()
    {
        var store = New([Pair("t0"), Pair("t1")]);
        store.Invite("ann1", AnnotatorRole.Annotator);
        Assert.Equal("t0", store.NextTask("ann1")!.Id);
        Assert.Equal("t0", store.NextTask("ann1")!.Id);
        store.Submit("t0", "ann1", Choose(PairChoice.B), null);
        Assert.Equal("t1", store.NextTask("ann1")!.Id);
    }

    [Fact]
    public void A_reservation_that_expires_frees_the_slot_for_someone_else()
    {
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var store = New([Pair("t0")], k: 1, time: time);
        store.Invite("slow", AnnotatorRole.Annotator);
        store.Invite("fast", AnnotatorRole.Annotator);
        Assert.Equal("t0", store.NextTask("slow")!.Id);
        Assert.Null(store.NextTask("fast"));
        time.Advance(TimeSpan.FromMinutes(61));
        Assert.Equal("t0", store.NextTask("fast")!.Id);
        time.Advance(TimeSpan.FromSeconds(12.5));
        Assert.Equal(SubmitOutcome.Stored, store.Submit("t0", "fast", Choose(PairChoice.A), null));
        Assert.Equal(12.5, store.FindLabel("t0", "fast")!.Seconds, 6);
        Assert.Equal(SubmitOutcome.Stored, store.Submit("t0", "slow", Choose(PairChoice.B), null)); // a late answer is kept, not lost
    }

    [Fact]
    public void Gold_questions_go_to_everyone_every_nth_task_and_do_not_count_towards_k()
    {
        var tasks = Enumerable.Range(0, 6).Select(i => Pair($"t{i}")).Concat([Pair("gold1", gold: PairChoice.A), Pair("gold2", gold: PairChoice.B)]);
        var store = New(tasks, k: 1, goldEvery: 3);
        store.Invite("ann1", AnnotatorRole.Annotator);
        store.Invite("ann2", AnnotatorRole.Annotator);
        Assert.Equal(["t0", "t1", "gold1", "t2", "t3", "gold2", "t4", "t5"], Drain(store, "ann1"));
        Assert.Equal(["gold1", "gold2"], Drain(store, "ann2")); // k = 1: only the gold questions are left for ann2
    }

    [Fact]
    public void Only_a_task_handed_out_to_you_can_be_answered_and_only_once()
    {
        var store = New([Pair("t0"), Pair("t1")]);
        store.Invite("ann1", AnnotatorRole.Annotator);
        store.Invite("ann2", AnnotatorRole.Annotator);
        Assert.Equal("t0", store.NextTask("ann1")!.Id);
        Assert.Equal(SubmitOutcome.NotAssigned, store.Submit("t1", "ann1", Choose(PairChoice.A), null));
        Assert.Equal(SubmitOutcome.NotAssigned, store.Submit("t0", "ann2", Choose(PairChoice.A), null));
        Assert.Equal(SubmitOutcome.UnknownTask, store.Submit("nope", "ann1", Choose(PairChoice.A), null));
        Assert.Equal(SubmitOutcome.Stored, store.Submit("t0", "ann1", Choose(PairChoice.A, 3), "  because  "));
        Assert.Equal(SubmitOutcome.AlreadyLabelled, store.Submit("t0", "ann1", Choose(PairChoice.B), null));
        var label = store.FindLabel("t0", "ann1")!;
        Assert.Equal(PairChoice.A, label.Answer.Choice);
        Assert.Equal(3, label.Answer.Strength);
        Assert.Equal("because", label.Reason);
        Assert.Null(store.FindLabel("t0", "ann2"));
    }

    [Fact]
    public void An_invalid_answer_or_an_oversized_reason_is_refused()
    {
        var store = New([Ranking("r0", 3)]);
        store.Invite("ann1", AnnotatorRole.Annotator);
        store.NextTask("ann1");
        Assert.Contains("same rank", Assert.Throws<ArgumentException>(() => store.Submit("r0", "ann1", new AnnotationAnswer { Ranks = [1, 1, 2] }, null)).Message);
        Assert.Contains("limit is 2000", Assert.Throws<ArgumentException>(() =>
            store.Submit("r0", "ann1", new AnnotationAnswer { Ranks = [1, 2, 3] }, new string('x', 2001))).Message);
        Assert.Empty(store.Snapshot().Labels);
    }

    [Fact]
    public void Invite_tokens_are_stored_only_as_hashes_and_a_new_invite_revokes_the_old_token()
    {
        var store = New([Pair("t0")]);
        var token = store.Invite("ann1", AnnotatorRole.Admin);
        Assert.Equal(new Annotator("ann1", AnnotatorRole.Admin, store.FindAnnotator(token)!.CreatedUtc), store.FindAnnotator(token));
        SqliteConnection.ClearAllPools();
        var bytes = File.ReadAllBytes(store.Path).Concat(File.Exists(store.Path + "-wal") ? File.ReadAllBytes(store.Path + "-wal") : []).ToArray();
        Assert.Equal(-1, bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(token)));
        Assert.NotEqual(-1, bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(AnnotationStore.HashToken(token))));
        var replaced = store.Invite("ann1", AnnotatorRole.Annotator);
        Assert.Null(store.FindAnnotator(token));
        Assert.Equal(AnnotatorRole.Annotator, store.FindAnnotator(replaced)!.Role);
        Assert.Null(store.FindAnnotator("rk_not-a-token"));
        Assert.Throws<ArgumentException>(() => store.Invite("bad id!", AnnotatorRole.Annotator));
    }

    [Fact]
    public void Importing_the_same_tasks_again_changes_nothing_and_a_changed_task_is_refused()
    {
        var store = New([Pair("t0"), Rating("s0", gold: [4, 2])]);
        Assert.Equal(new TaskImport(1, 2), store.ImportTasks([Pair("t0"), Rating("s0", gold: [4, 2]), Pair("t1")]));
        var e = Assert.Throws<InvalidDataException>(() => store.ImportTasks([Pair("t2"), Pair("t0", a: "changed")]));
        Assert.Contains("'t0'", e.Message);
        Assert.Null(store.FindTask("t2"));
        Assert.Equal([4, 2], store.FindTask("s0")!.Gold!.Ratings);
    }

    [Fact]
    public void The_database_is_in_WAL_mode_at_the_current_schema_version()
    {
        var store = New([Pair("t0")]);
        Assert.Equal(AnnotationSchema.Version, store.SchemaVersion);
        using var c = new SqliteConnection($"Data Source={store.Path}");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", cmd.ExecuteScalar());
    }

    [Fact]
    public void A_version_1_database_is_migrated_in_place_keeping_its_labels()
    {
        var folder = TempFolder("migrate");
        _folders.Add(folder);
        var path = Path.Combine(folder, "old.db");
        using (var c = new SqliteConnection($"Data Source={path}"))
        {
            c.Open();
            Assert.Equal(1, AnnotationSchema.Migrate(c, path, target: 1));
            using var cmd = c.CreateCommand();
            cmd.CommandText = """
                INSERT INTO tasks (id, mode, prompt, responses, added_ms) VALUES ('t0', 'pairwise', 'p', '["a","b"]', 0);
                INSERT INTO annotators (id, token_sha256, role, created_ms) VALUES ('ann1', 'x', 'annotator', 0);
                INSERT INTO assignments (task_seq, annotator_id, assigned_ms) VALUES (1, 'ann1', 0);
                INSERT INTO labels (task_seq, annotator_id, choice, strength, seconds, submitted_ms) VALUES (1, 'ann1', 'B', 3, 4.5, 1000);
                """;
            cmd.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();
        var store = AnnotationStore.Open(path);
        Assert.Equal(AnnotationSchema.Version, store.SchemaVersion);
        var label = Assert.Single(store.Snapshot().Labels);
        Assert.Equal((PairChoice.B, 3, 4.5), (label.Answer.Choice!.Value, label.Answer.Strength, label.Seconds));
        store.ImportScores(new ModelInfo("m", "v", "/m", DateTimeOffset.UnixEpoch, 0), [new TaskScore("t0", 0.5, [1, 2])]); // a version-2 table
    }

    [Fact]
    public void A_newer_schema_or_a_file_that_is_not_a_database_is_refused_with_a_clear_message()
    {
        var folder = TempFolder("refuse");
        _folders.Add(folder);
        var newer = Path.Combine(folder, "newer.db");
        using (var c = new SqliteConnection($"Data Source={newer}"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 99;";
            cmd.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();
        Assert.Contains("schema version 99", Assert.Throws<InvalidDataException>(() => AnnotationStore.Open(newer)).Message);
        var text = Path.Combine(folder, "tasks.db");
        File.WriteAllText(text, new string('x', 4096));
        Assert.Contains("not an annotation database", Assert.Throws<InvalidDataException>(() => AnnotationStore.Open(text)).Message);
    }

    [Fact]
    public void Settings_survive_reopening_and_bad_values_name_the_option()
    {
        var store = New([Pair("t0")], k: 4, goldEvery: 7);
        store.SaveSettings(store.Settings() with { Guidelines = "Be kind." });
        SqliteConnection.ClearAllPools();
        var again = AnnotationStore.Open(store.Path).Settings();
        Assert.Equal((4, 7, "Be kind."), (again.AnnotatorsPerTask, again.GoldEvery, again.Guidelines));
        Assert.Contains("--k", Assert.Throws<ArgumentException>(() => store.SaveSettings(again with { AnnotatorsPerTask = 0 })).Message);
    }

    sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        DateTimeOffset _now = start;
        public void Advance(TimeSpan by) => _now += by;
        public override DateTimeOffset GetUtcNow() => _now;
    }
}
