using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace RewardKit.Annotation;

// The queue (which task an annotator gets next), submissions, the active-learning scores and snapshots.
public sealed partial class AnnotationStore
{
    // An annotator's open hand-out: assigned to them, not yet answered.
    const string OpenAssignmentSql = """
        SELECT a.task_seq FROM assignments a
        WHERE a.annotator_id = $me AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.task_seq = a.task_seq AND l.annotator_id = $me)
        ORDER BY a.assigned_ms, a.task_seq LIMIT 1;
        """;

    // The next ordinary task: not yet handed to me, with fewer than k slots taken (answered, or handed out within the
    // reservation time); the least certain first when a model has scored the tasks, then in import order.
    const string NextRegularSql = """
        SELECT t.seq FROM tasks t LEFT JOIN task_scores s ON s.task_seq = t.seq
        WHERE t.gold IS NULL
          AND NOT EXISTS (SELECT 1 FROM assignments m WHERE m.task_seq = t.seq AND m.annotator_id = $me)
          AND (SELECT COUNT(*) FROM assignments a WHERE a.task_seq = t.seq
                 AND (a.assigned_ms > $cutoff OR EXISTS (SELECT 1 FROM labels l WHERE l.task_seq = a.task_seq AND l.annotator_id = a.annotator_id))) < $k
        ORDER BY s.uncertainty IS NULL, s.uncertainty DESC, t.seq
        LIMIT 1;
        """;

    const string NextGoldSql = """
        SELECT t.seq FROM tasks t
        WHERE t.gold IS NOT NULL AND NOT EXISTS (SELECT 1 FROM assignments m WHERE m.task_seq = t.seq AND m.annotator_id = $me)
        ORDER BY t.seq LIMIT 1;
        """;

    /// <summary>
    /// The task <paramref name="annotatorId"/> should do next, handed out to them (reserved for
    /// <see cref="AnnotationSettings.AssignmentMinutes"/>), or null when nothing is left. An open hand-out comes first;
    /// then every <see cref="AnnotationSettings.GoldEvery"/>-th task is an unseen gold question; otherwise the ordinary
    /// task the model is least certain about (see <see cref="ImportScores"/>), or the next in import order.
    /// </summary>
    public AnnotationTask? NextTask(string annotatorId)
    {
        ArgumentException.ThrowIfNullOrEmpty(annotatorId);
        return Write((c, t) =>
        {
            long now = NowMs;
            if (Scalar(c, t, OpenAssignmentSql, ("$me", annotatorId)) is long open)
                return ReadTask(c, t, "t.seq = $s", ("$s", open))!.Value.Task;
            var settings = ReadSettings(c, t);
            long answered = (long)Scalar(c, t, "SELECT COUNT(*) FROM labels WHERE annotator_id = $me;", ("$me", annotatorId))!;
            bool goldTurn = settings.GoldEvery > 0 && (answered + 1) % settings.GoldEvery == 0;
            long? Regular() => Scalar(c, t, NextRegularSql, ("$me", annotatorId), ("$k", settings.AnnotatorsPerTask),
                ("$cutoff", now - settings.AssignmentMinutes * 60_000L)) as long?;
            long? Gold() => Scalar(c, t, NextGoldSql, ("$me", annotatorId)) as long?;
            var next = goldTurn ? Gold() ?? Regular() : Regular() ?? Gold();
            if (next is not { } seq) return null;
            Execute(c, t, "INSERT INTO assignments (task_seq, annotator_id, assigned_ms) VALUES ($s, $me, $now);", ("$s", seq), ("$me", annotatorId), ("$now", now));
            return ReadTask(c, t, "t.seq = $s", ("$s", seq))!.Value.Task;
        });
    }

    /// <summary>True when task <paramref name="taskId"/> was handed out to <paramref name="annotatorId"/>.</summary>
    public bool IsAssigned(string taskId, string annotatorId) => Read((c, t) =>
        Scalar(c, t, "SELECT 1 FROM assignments a JOIN tasks t ON t.seq = a.task_seq WHERE t.id = $id AND a.annotator_id = $me;",
            ("$id", taskId), ("$me", annotatorId)) is not null);

    /// <summary>
    /// Stores <paramref name="annotatorId"/>'s answer to <paramref name="taskId"/>. Only a task handed out to them can be
    /// answered, once. The answer must be valid for the task (<see cref="AnnotationAnswer.Problem"/>); the reason is
    /// trimmed and at most <see cref="AnnotationLimits.MaxReasonLength"/> characters.
    /// </summary>
    public SubmitOutcome Submit(string taskId, string annotatorId, AnnotationAnswer answer, string? reason)
    {
        ArgumentNullException.ThrowIfNull(answer);
        reason = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        if (reason is { Length: > AnnotationLimits.MaxReasonLength })
            throw new ArgumentException($"reason is {reason.Length} characters; the limit is {AnnotationLimits.MaxReasonLength}.", nameof(reason));
        if (!AnnotationLimits.IsValidId(taskId, AnnotationLimits.MaxTaskIdLength)) return SubmitOutcome.UnknownTask;
        return Write((c, t) =>
        {
            if (ReadTask(c, t, "t.id = $id", ("$id", taskId)) is not { } found) return SubmitOutcome.UnknownTask;
            var (seq, task) = found;
            if (answer.Problem(task) is { } problem) throw new ArgumentException(problem, nameof(answer));
            if (Scalar(c, t, "SELECT assigned_ms FROM assignments WHERE task_seq = $s AND annotator_id = $me;", ("$s", seq), ("$me", annotatorId)) is not long assigned)
                return SubmitOutcome.NotAssigned;
            if (Scalar(c, t, "SELECT 1 FROM labels WHERE task_seq = $s AND annotator_id = $me;", ("$s", seq), ("$me", annotatorId)) is not null)
                return SubmitOutcome.AlreadyLabelled;
            long now = NowMs;
            Execute(c, t, """
                INSERT INTO labels (task_seq, annotator_id, choice, strength, ranks, ratings, reason, seconds, submitted_ms)
                VALUES ($s, $me, $choice, $strength, $ranks, $ratings, $reason, $seconds, $now);
                """,
                ("$s", seq), ("$me", annotatorId),
                ("$choice", task.Mode == AnnotationMode.Pairwise ? AnswerText(AnnotationMode.Pairwise, answer) : null),
                ("$strength", task.Mode == AnnotationMode.Pairwise ? answer.Strength : null),
                ("$ranks", answer.Ranks is { } r ? string.Join(',', r) : null),
                ("$ratings", answer.Ratings is { } g ? string.Join(',', g) : null),
                ("$reason", reason), ("$seconds", Math.Max(0, now - assigned) / 1000.0), ("$now", now));
            return SubmitOutcome.Stored;
        });
    }

    /// <summary><paramref name="annotatorId"/>'s own label of <paramref name="taskId"/>, or null (nobody sees another's labels).</summary>
    public AnnotationLabel? FindLabel(string taskId, string annotatorId) => Read((c, t) =>
        ReadLabels(c, t, "t.id = $id AND l.annotator_id = $me", ("$id", taskId), ("$me", annotatorId)).FirstOrDefault());

    /// <summary>How many tasks <paramref name="annotatorId"/> has answered.</summary>
    public int LabelCount(string annotatorId) => Read((c, t) =>
        Convert.ToInt32(Scalar(c, t, "SELECT COUNT(*) FROM labels WHERE annotator_id = $me;", ("$me", annotatorId)), CultureInfo.InvariantCulture));

    static List<AnnotationLabel> ReadLabels(SqliteConnection c, SqliteTransaction t, string where, params (string, object?)[] parameters)
    {
        using var command = Command(c, t, $"""
            SELECT t.id, t.mode, l.annotator_id, l.choice, l.strength, l.ranks, l.ratings, l.reason, l.seconds, l.submitted_ms
            FROM labels l JOIN tasks t ON t.seq = l.task_seq WHERE {where} ORDER BY l.id;
            """, parameters);
        using var r = command.ExecuteReader();
        var list = new List<AnnotationLabel>();
        while (r.Read())
        {
            var answer = TaskFile.ParseMode(r.GetString(1), "database") switch
            {
                AnnotationMode.Pairwise => new AnnotationAnswer { Choice = ParseChoice(r.GetString(3)), Strength = r.GetInt32(4) },
                AnnotationMode.Ranking => new AnnotationAnswer { Ranks = Ints(r.GetString(5)) },
                _ => new AnnotationAnswer { Ratings = Ints(r.GetString(6)) },
            };
            list.Add(new AnnotationLabel
            {
                TaskId = r.GetString(0), AnnotatorId = r.GetString(2), Answer = answer,
                Reason = r.IsDBNull(7) ? null : r.GetString(7), Seconds = r.GetDouble(8),
                SubmittedUtc = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(9)),
            });
        }
        return list;
    }

    // ---- active learning ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Replaces the queue's ordering scores with <paramref name="scores"/> of the model <paramref name="model"/>, in one
    /// transaction: a running server orders by the new model from its next hand-out. Scores of unknown tasks are an error.
    /// </summary>
    public void ImportScores(ModelInfo model, IReadOnlyList<TaskScore> scores)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scores);
        Write((c, t) =>
        {
            Execute(c, t, "DELETE FROM task_scores;");
            foreach (var s in scores)
            {
                if (!double.IsFinite(s.Uncertainty)) throw new ArgumentException($"task '{s.TaskId}': uncertainty is {s.Uncertainty}; the model gave a non-finite reward.", nameof(scores));
                int n = Execute(c, t, "INSERT INTO task_scores (task_seq, uncertainty, rewards) SELECT seq, $u, $r FROM tasks WHERE id = $id;",
                    ("$id", s.TaskId), ("$u", s.Uncertainty), ("$r", JsonSerializer.Serialize(s.Rewards)));
                if (n == 0) throw new ArgumentException($"task '{s.TaskId}' is not in {Path}.", nameof(scores));
            }
            SetSetting(c, t, "model", JsonSerializer.Serialize(model with { TasksScored = scores.Count }));
            return 0;
        });
    }

    /// <summary>The model ordering the queue, or null when tasks go out in import order.</summary>
    public ModelInfo? Model() => Read((c, t) => ReadModel(c, t));

    static ModelInfo? ReadModel(SqliteConnection c, SqliteTransaction t) =>
        Scalar(c, t, "SELECT value FROM settings WHERE key = 'model';") is string json ? JsonSerializer.Deserialize<ModelInfo>(json) : null;

    /// <summary>Every task, label, annotator and setting, read in one transaction.</summary>
    public AnnotationSnapshot Snapshot() => Read((c, t) =>
        new AnnotationSnapshot(ReadTasks(c, t), ReadLabels(c, t, "1 = 1"), ReadAnnotators(c, t), ReadSettings(c, t), ReadModel(c, t)));
}
