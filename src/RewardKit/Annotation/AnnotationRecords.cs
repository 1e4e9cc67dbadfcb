namespace RewardKit.Annotation;

/// <summary>What an invite token lets its holder do.</summary>
public enum AnnotatorRole
{
    /// <summary>Labels the tasks handed out to them.</summary>
    Annotator,

    /// <summary>Labels too, and sees the admin page (progress, speed, accuracy, agreement) and invites others.</summary>
    Admin,
}

/// <summary>An annotator as stored (the invite token itself is never stored, only its sha256).</summary>
/// <param name="Id">The annotator id written into exports.</param>
/// <param name="Role">What the token allows.</param>
/// <param name="CreatedUtc">When the invite was made.</param>
public sealed record Annotator(string Id, AnnotatorRole Role, DateTimeOffset CreatedUtc);

/// <summary>The project's settings, kept in the database so a restart serves the same project.</summary>
public sealed record AnnotationSettings
{
    /// <summary>How many annotators label each (non-gold) task. Default 3.</summary>
    public int AnnotatorsPerTask { get; init; } = 3;

    /// <summary>Every n-th task an annotator gets is a gold question while unseen ones remain; 0 = gold only after the other tasks. Default 5.</summary>
    public int GoldEvery { get; init; } = 5;

    /// <summary>Minutes a handed-out task stays reserved for its annotator before others may take the slot. Default 60.</summary>
    public int AssignmentMinutes { get; init; } = 60;

    /// <summary>The guidelines page's text (plain text; blank lines separate paragraphs).</summary>
    public string Guidelines { get; init; } = "";

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the field and the fix.</summary>
    public void Validate()
    {
        if (AnnotatorsPerTask is < 1 or > 100) throw new ArgumentException($"annotators per task (--k) is {AnnotatorsPerTask}; use 1 to 100.");
        if (GoldEvery is < 0 or > 1000) throw new ArgumentException($"gold every (--gold-every) is {GoldEvery}; use 0 (gold last) to 1000.");
        if (AssignmentMinutes is < 1 or > 7 * 24 * 60) throw new ArgumentException($"assignment minutes is {AssignmentMinutes}; use 1 to 10080 (a week).");
        if (Guidelines.Length > 200_000) throw new ArgumentException($"the guidelines are {Guidelines.Length} characters; the limit is 200000.");
    }
}

/// <summary>The reward model whose uncertainty orders the queue.</summary>
/// <param name="Name">The model's name (rewardkit.json).</param>
/// <param name="Version">The model's content version.</param>
/// <param name="Directory">The folder it was loaded from.</param>
/// <param name="ImportedUtc">When its scores were stored.</param>
/// <param name="TasksScored">How many tasks it scored.</param>
public sealed record ModelInfo(string Name, string Version, string Directory, DateTimeOffset ImportedUtc, int TasksScored);

/// <summary>A reward model's view of one task.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Uncertainty">1 − |2p − 1| of the task's least certain response pair (1 = a coin flip); the queue serves the highest first.</param>
/// <param name="Rewards">The model's raw reward of each response.</param>
public sealed record TaskScore(string TaskId, double Uncertainty, IReadOnlyList<double> Rewards);

/// <summary>What happened to a submitted answer.</summary>
public enum SubmitOutcome
{
    /// <summary>Stored and durable (committed with a synchronous WAL write).</summary>
    Stored,

    /// <summary>No task has that id.</summary>
    UnknownTask,

    /// <summary>The task was not handed out to this annotator.</summary>
    NotAssigned,

    /// <summary>This annotator already answered the task (answers are final).</summary>
    AlreadyLabelled,
}

/// <summary>How many tasks an import added and how many were already present unchanged.</summary>
/// <param name="Added">New tasks.</param>
/// <param name="Unchanged">Tasks already in the database with the same content.</param>
public sealed record TaskImport(int Added, int Unchanged);

/// <summary>A consistent copy of everything in the database (one read transaction), for statistics and export.</summary>
/// <param name="Tasks">Every task in import order.</param>
/// <param name="Labels">Every label in submission order.</param>
/// <param name="Annotators">Every annotator.</param>
/// <param name="Settings">The project's settings.</param>
/// <param name="Model">The model ordering the queue, or null (file order).</param>
public sealed record AnnotationSnapshot(
    IReadOnlyList<AnnotationTask> Tasks,
    IReadOnlyList<AnnotationLabel> Labels,
    IReadOnlyList<Annotator> Annotators,
    AnnotationSettings Settings,
    ModelInfo? Model)
{
    /// <summary>The labels of each task, by task id.</summary>
    public ILookup<string, AnnotationLabel> LabelsByTask => Labels.ToLookup(l => l.TaskId, StringComparer.Ordinal);
}
