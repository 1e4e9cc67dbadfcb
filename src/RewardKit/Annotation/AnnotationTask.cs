namespace RewardKit.Annotation;

/// <summary>What an annotator does with a task's responses.</summary>
public enum AnnotationMode
{
    /// <summary>Two responses: A, B or tie, with a strength (1 slightly, 2 clearly, 3 much better) and an optional reason.</summary>
    Pairwise,

    /// <summary>Two or more responses put in order: rank 1 is best, every rank used once.</summary>
    Ranking,

    /// <summary>Each response rated 1–5 against the rubric.</summary>
    Rating,
}

/// <summary>The names of modes as they appear in files, forms and pages.</summary>
public static class AnnotationModes
{
    /// <summary>"pairwise", "ranking" or "rating".</summary>
    public static string Name(AnnotationMode mode) => mode.ToString().ToLowerInvariant();
}

/// <summary>The answer of a pairwise task: which response is better, or neither.</summary>
public enum PairChoice
{
    /// <summary>Response A is better.</summary>
    A,

    /// <summary>Response B is better.</summary>
    B,

    /// <summary>Neither is better.</summary>
    Tie,
}

/// <summary>
/// One prompt with the responses to judge (a line of <c>tasks.jsonl</c>). A task with <see cref="Gold"/> is a gold
/// question: every annotator gets it (it does not count towards the k annotators per task) and it measures accuracy.
/// </summary>
public sealed record AnnotationTask
{
    /// <summary>The task's id (letters, digits, <c>_ . : -</c>; at most <see cref="AnnotationLimits.MaxTaskIdLength"/> characters).</summary>
    public required string Id { get; init; }

    /// <summary>What annotators do with it.</summary>
    public required AnnotationMode Mode { get; init; }

    /// <summary>The prompt, shown as plain text.</summary>
    public required string Prompt { get; init; }

    /// <summary>The responses in the order shown (A, B for pairwise); at least two.</summary>
    public required IReadOnlyList<string> Responses { get; init; }

    /// <summary>The <c>category</c> field, or null.</summary>
    public string? Category { get; init; }

    /// <summary>The known answer of a gold question, or null for an ordinary task.</summary>
    public AnnotationAnswer? Gold { get; init; }

    /// <summary>True for a gold question.</summary>
    public bool IsGold => Gold is not null;
}

/// <summary>
/// An answer to a task in the form its mode needs: <see cref="Choice"/> and <see cref="Strength"/> (pairwise),
/// <see cref="Ranks"/> (ranking: 1 = best, a permutation of 1..n) or <see cref="Ratings"/> (rating: 1–5 per response).
/// </summary>
public sealed record AnnotationAnswer
{
    /// <summary>Pairwise: A, B or tie.</summary>
    public PairChoice? Choice { get; init; }

    /// <summary>Pairwise: 1 (slightly), 2 (clearly) or 3 (much better); 0 for a tie.</summary>
    public int Strength { get; init; }

    /// <summary>Ranking: the rank of each response, 1 = best.</summary>
    public IReadOnlyList<int>? Ranks { get; init; }

    /// <summary>Rating: the rating of each response, 1–5.</summary>
    public IReadOnlyList<int>? Ratings { get; init; }

    /// <summary>
    /// Checks the answer against <paramref name="task"/>'s mode and limits; returns null when it is valid, else a message
    /// naming the field and the fix (what the server sends back with status 400).
    /// </summary>
    public string? Problem(AnnotationTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        int n = task.Responses.Count;
        switch (task.Mode)
        {
            case AnnotationMode.Pairwise:
                if (Choice is null) return "choice is missing; pick A, B or tie.";
                if (Choice == PairChoice.Tie) return Strength == 0 ? null : "strength must be empty for a tie.";
                return Strength is >= AnnotationLimits.MinStrength and <= AnnotationLimits.MaxStrength ? null
                    : $"strength is {Strength}; pick {AnnotationLimits.MinStrength} (slightly), 2 (clearly) or {AnnotationLimits.MaxStrength} (much better).";
            case AnnotationMode.Ranking:
                if (Ranks is null || Ranks.Count != n) return $"give a rank to each of the {n} responses.";
                for (int i = 0; i < n; i++)
                    if (Ranks[i] < 1 || Ranks[i] > n) return $"rank_{i} is {Ranks[i]}; ranks run from 1 (best) to {n}.";
                return Ranks.Distinct().Count() == n ? null : "two responses have the same rank; use each rank from 1 to " + n + " once.";
            case AnnotationMode.Rating:
                if (Ratings is null || Ratings.Count != n) return $"rate each of the {n} responses.";
                for (int i = 0; i < n; i++)
                    if (Ratings[i] < AnnotationLimits.MinRating || Ratings[i] > AnnotationLimits.MaxRating)
                        return $"rating_{i} is {Ratings[i]}; ratings run from {AnnotationLimits.MinRating} to {AnnotationLimits.MaxRating}.";
                return null;
            default:
                throw new ArgumentOutOfRangeException(nameof(task), task.Mode, "unknown mode");
        }
    }
}

/// <summary>The limits every task, label and form is checked against.</summary>
public static class AnnotationLimits
{
    /// <summary>Longest task id.</summary>
    public const int MaxTaskIdLength = 128;

    /// <summary>Longest annotator id.</summary>
    public const int MaxAnnotatorIdLength = 64;

    /// <summary>Most responses in a task.</summary>
    public const int MaxResponses = 10;

    /// <summary>Longest prompt or response, in characters.</summary>
    public const int MaxTextLength = 100_000;

    /// <summary>Longest reason an annotator may give, in characters.</summary>
    public const int MaxReasonLength = 2000;

    /// <summary>Pairwise strength range: 1 slightly, 2 clearly, 3 much better.</summary>
    public const int MinStrength = 1, MaxStrength = 3;

    /// <summary>Rating range.</summary>
    public const int MinRating = 1, MaxRating = 5;

    /// <summary>True when <paramref name="id"/> is a valid task or annotator id of at most <paramref name="maxLength"/> characters.</summary>
    public static bool IsValidId(string? id, int maxLength) =>
        !string.IsNullOrEmpty(id) && id.Length <= maxLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-');
}

/// <summary>One annotator's submitted answer to one task.</summary>
public sealed record AnnotationLabel
{
    /// <summary>The task answered.</summary>
    public required string TaskId { get; init; }

    /// <summary>Who answered.</summary>
    public required string AnnotatorId { get; init; }

    /// <summary>The answer.</summary>
    public required AnnotationAnswer Answer { get; init; }

    /// <summary>The annotator's reason (plain text, at most <see cref="AnnotationLimits.MaxReasonLength"/> characters), or null.</summary>
    public string? Reason { get; init; }

    /// <summary>Seconds from the task being handed out to the answer (the annotator's time on it).</summary>
    public double Seconds { get; init; }

    /// <summary>When the answer was stored.</summary>
    public DateTimeOffset SubmittedUtc { get; init; }
}

/// <summary>How well an answer matches a gold answer.</summary>
public static class GoldScoring
{
    /// <summary>
    /// The score of <paramref name="answer"/> against <paramref name="gold"/> in [0, 1]: pairwise 1 when the choice is the
    /// gold choice (strength is not scored); ranking the fraction of response pairs put in the gold order; rating the
    /// fraction of responses rated within 1 of the gold rating.
    /// </summary>
    public static double Score(AnnotationMode mode, AnnotationAnswer answer, AnnotationAnswer gold)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(gold);
        switch (mode)
        {
            case AnnotationMode.Pairwise:
                return answer.Choice == gold.Choice ? 1 : 0;
            case AnnotationMode.Ranking:
            {
                var (a, g) = (answer.Ranks!, gold.Ranks!);
                int pairs = 0, agreed = 0;
                for (int i = 0; i < g.Count; i++)
                    for (int j = i + 1; j < g.Count; j++)
                    {
                        if (g[i] == g[j]) continue;
                        pairs++;
                        if (Math.Sign(a[i] - a[j]) == Math.Sign(g[i] - g[j])) agreed++;
                    }
                return pairs == 0 ? 1 : agreed / (double)pairs;
            }
            case AnnotationMode.Rating:
            {
                var (a, g) = (answer.Ratings!, gold.Ratings!);
                return Enumerable.Range(0, g.Count).Count(i => Math.Abs(a[i] - g[i]) <= 1) / (double)g.Count;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(mode));
        }
    }
}
