namespace RewardKit.Annotation;

/// <summary>How far the project is.</summary>
/// <param name="Tasks">Ordinary (non-gold) tasks.</param>
/// <param name="GoldTasks">Gold questions.</param>
/// <param name="Labels">Labels of every kind.</param>
/// <param name="TasksStarted">Ordinary tasks with at least one label.</param>
/// <param name="TasksComplete">Ordinary tasks with at least k labels.</param>
/// <param name="AnnotatorsPerTask">k.</param>
public sealed record AnnotationProgress(int Tasks, int GoldTasks, int Labels, int TasksStarted, int TasksComplete, int AnnotatorsPerTask)
{
    /// <summary>Labels on ordinary tasks over the k × tasks wanted, in [0, 1].</summary>
    public double Fraction { get; init; }
}

/// <summary>One annotator's work.</summary>
/// <param name="Id">The annotator.</param>
/// <param name="Role">Their role.</param>
/// <param name="Labels">Labels given (gold included).</param>
/// <param name="MedianSeconds">Median seconds per label, or null without labels.</param>
/// <param name="GoldAnswered">Gold questions answered.</param>
/// <param name="GoldAccuracy">Mean <see cref="GoldScoring.Score"/> over them, or null.</param>
/// <param name="LastActiveUtc">When they last submitted, or null.</param>
public sealed record AnnotatorSummary(string Id, AnnotatorRole Role, int Labels, double? MedianSeconds, int GoldAnswered, double? GoldAccuracy, DateTimeOffset? LastActiveUtc);

/// <summary>Cohen's κ of two annotators on the items both labelled.</summary>
/// <param name="First">One annotator.</param>
/// <param name="Second">The other.</param>
/// <param name="SharedItems">Items both labelled.</param>
/// <param name="Kappa">Cohen's κ (NaN when undefined).</param>
public sealed record PairAgreement(string First, string Second, int SharedItems, double Kappa);

/// <summary>Agreement among the annotators of one mode's ordinary tasks.</summary>
/// <param name="Mode">The mode.</param>
/// <param name="Items">Items labelled by at least two annotators (κ items).</param>
/// <param name="KappaItems">What a κ item and its categories are.</param>
/// <param name="FleissKappa">Fleiss' κ over the κ items.</param>
/// <param name="Alpha">Krippendorff's α.</param>
/// <param name="AlphaLevel">α's level of measurement.</param>
/// <param name="AlphaItems">What an α unit and its values are.</param>
/// <param name="Pairs">Cohen's κ of every two annotators with at least two shared items.</param>
public sealed record ModeAgreement(AnnotationMode Mode, int Items, string KappaItems, double FleissKappa, double Alpha, AlphaLevel AlphaLevel, string AlphaItems, IReadOnlyList<PairAgreement> Pairs);

/// <summary>What the admin page shows and <c>annotate export</c> writes to <c>summary.json</c>.</summary>
/// <param name="Progress">How far the project is.</param>
/// <param name="Annotators">Per-annotator speed and accuracy.</param>
/// <param name="Agreement">Agreement per mode that has labels.</param>
/// <param name="Model">The model ordering the queue, or null.</param>
public sealed record AnnotationReport(AnnotationProgress Progress, IReadOnlyList<AnnotatorSummary> Annotators, IReadOnlyList<ModeAgreement> Agreement, ModelInfo? Model);

/// <summary>Progress, speed, gold accuracy and agreement computed from a <see cref="AnnotationSnapshot"/>.</summary>
public static class AnnotationStatistics
{
    /// <summary>The report of <paramref name="snapshot"/>.</summary>
    public static AnnotationReport Compute(AnnotationSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var byTask = snapshot.LabelsByTask;
        var regular = snapshot.Tasks.Where(t => !t.IsGold).ToList();
        int k = snapshot.Settings.AnnotatorsPerTask;
        int regularLabels = regular.Sum(t => Math.Min(k, byTask[t.Id].Count()));
        var progress = new AnnotationProgress(regular.Count, snapshot.Tasks.Count - regular.Count, snapshot.Labels.Count,
            regular.Count(t => byTask[t.Id].Any()), regular.Count(t => byTask[t.Id].Count() >= k), k)
        {
            Fraction = regular.Count == 0 ? 0 : regularLabels / (double)(regular.Count * k),
        };
        var agreement = Enum.GetValues<AnnotationMode>()
            .Select(m => ModeAgreementOf(m, regular.Where(t => t.Mode == m).ToList(), byTask))
            .OfType<ModeAgreement>().ToList();
        return new AnnotationReport(progress, Annotators(snapshot), agreement, snapshot.Model);
    }

    static List<AnnotatorSummary> Annotators(AnnotationSnapshot snapshot)
    {
        var tasks = snapshot.Tasks.ToDictionary(t => t.Id, StringComparer.Ordinal);
        var byAnnotator = snapshot.Labels.ToLookup(l => l.AnnotatorId, StringComparer.Ordinal);
        return snapshot.Annotators.Select(a =>
        {
            var labels = byAnnotator[a.Id].ToList();
            var gold = labels.Where(l => tasks[l.TaskId].IsGold).Select(l => GoldScoring.Score(tasks[l.TaskId].Mode, l.Answer, tasks[l.TaskId].Gold!)).ToList();
            return new AnnotatorSummary(a.Id, a.Role, labels.Count, labels.Count == 0 ? null : Median(labels.Select(l => l.Seconds)),
                gold.Count, gold.Count == 0 ? null : gold.Average(), labels.Count == 0 ? null : labels.Max(l => l.SubmittedUtc));
        }).ToList();
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    /// <summary>One categorical observation for κ: the item, who labelled it and the category.</summary>
    readonly record struct Categorical(string Item, string Annotator, int Category);

    static ModeAgreement? ModeAgreementOf(AnnotationMode mode, List<AnnotationTask> tasks, ILookup<string, AnnotationLabel> byTask)
    {
        var kappa = new List<Categorical>();
        var alpha = new List<IReadOnlyList<double>>();
        foreach (var task in tasks)
        {
            var labels = byTask[task.Id].ToList();
            if (labels.Count == 0) continue;
            switch (mode)
            {
                case AnnotationMode.Pairwise:
                    kappa.AddRange(labels.Select(l => new Categorical(task.Id, l.AnnotatorId, (int)l.Answer.Choice!)));
                    alpha.Add(labels.Select(l => (double)(int)l.Answer.Choice!).ToArray());
                    break;
                case AnnotationMode.Ranking:
                    kappa.AddRange(labels.Select(l => new Categorical(task.Id, l.AnnotatorId, l.Answer.Ranks!.ToList().IndexOf(1))));
                    for (int i = 0; i < task.Responses.Count; i++) alpha.Add(labels.Select(l => (double)l.Answer.Ranks![i]).ToArray());
                    break;
                case AnnotationMode.Rating:
                    for (int i = 0; i < task.Responses.Count; i++)
                    {
                        kappa.AddRange(labels.Select(l => new Categorical($"{task.Id}#{i}", l.AnnotatorId, l.Answer.Ratings![i])));
                        alpha.Add(labels.Select(l => (double)l.Answer.Ratings![i]).ToArray());
                    }
                    break;
            }
        }
        if (kappa.Count == 0) return null;
        var (kappaItems, level, alphaItems) = mode switch
        {
            AnnotationMode.Pairwise => ("task; categories A, B, tie", AlphaLevel.Nominal, "task; A, B, tie (nominal)"),
            AnnotationMode.Ranking => ("task; category = the response ranked first", AlphaLevel.Ordinal, "task × response; its rank (ordinal)"),
            _ => ("task × response; categories 1–5", AlphaLevel.Ordinal, "task × response; its rating (ordinal)"),
        };
        var items = kappa.GroupBy(c => c.Item).Where(g => g.Count() >= 2).ToList();
        var categories = kappa.Select(c => c.Category).Distinct().Order().ToList();
        var counts = items.Select(g => (IReadOnlyList<int>)categories.Select(c => g.Count(x => x.Category == c)).ToArray()).ToList();
        return new ModeAgreement(mode, items.Count, kappaItems, Agreement.FleissKappa(counts), Agreement.KrippendorffAlpha(alpha, level), level, alphaItems, Pairs(kappa));
    }

    static List<PairAgreement> Pairs(List<Categorical> kappa)
    {
        var byAnnotator = kappa.GroupBy(c => c.Annotator).ToDictionary(g => g.Key, g => g.ToDictionary(c => c.Item, c => c.Category));
        var ids = byAnnotator.Keys.Order(StringComparer.Ordinal).ToList();
        var pairs = new List<PairAgreement>();
        for (int i = 0; i < ids.Count; i++)
            for (int j = i + 1; j < ids.Count; j++)
            {
                var (a, b) = (byAnnotator[ids[i]], byAnnotator[ids[j]]);
                var shared = a.Keys.Where(b.ContainsKey).Order(StringComparer.Ordinal).ToList();
                if (shared.Count < 2) continue;
                pairs.Add(new PairAgreement(ids[i], ids[j], shared.Count, Agreement.CohenKappa(shared.Select(s => a[s]).ToArray(), shared.Select(s => b[s]).ToArray())));
            }
        return pairs;
    }
}
