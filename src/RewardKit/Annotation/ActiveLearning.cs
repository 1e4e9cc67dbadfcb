using RewardKit.Inference;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Annotation;

/// <summary>
/// Uncertainty sampling for the annotation queue: a reward model scores every response, and the tasks whose predicted
/// preference is closest to a coin flip go out first (the labels that teach the model most; Settles 2009, §3.1).
/// </summary>
public static class ActiveLearning
{
    /// <summary>Tasks scored per call to the model (all their responses go to the forward passes together).</summary>
    const int TasksPerBatch = 32;

    /// <summary>
    /// The uncertainty of a task from its responses' rewards: over every pair i &lt; j, p = σ((r_i − r_j) / T) and
    /// certainty |2p − 1|; the task's uncertainty is 1 − the smallest certainty (its least certain pair decides), in
    /// [0, 1], 1 for a predicted tie.
    /// </summary>
    /// <param name="rewards">(n ≥ 2) the raw reward of each response.</param>
    /// <param name="temperature">The model's calibration temperature T (1 when uncalibrated).</param>
    public static double Uncertainty(IReadOnlyList<double> rewards, double temperature)
    {
        ArgumentNullException.ThrowIfNull(rewards);
        if (rewards.Count < 2) throw new ArgumentException($"Uncertainty: a task has at least 2 responses, got {rewards.Count}.", nameof(rewards));
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "the temperature must be positive.");
        double least = 1;
        for (int i = 0; i < rewards.Count; i++)
            for (int j = i + 1; j < rewards.Count; j++)
            {
                double p = Activations.Sigmoid((rewards[i] - rewards[j]) / temperature);
                least = Math.Min(least, Math.Abs(2 * p - 1));
            }
        return 1 - least;
    }

    /// <summary>Scores every response of <paramref name="tasks"/> with <paramref name="scorer"/> and returns each task's uncertainty.</summary>
    /// <param name="scorer">The reward model.</param>
    /// <param name="tasks">The tasks to score (gold questions included: they need no ordering but cost little).</param>
    /// <param name="progress">Receives the number of tasks scored so far.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public static IReadOnlyList<TaskScore> Score(RewardScorer scorer, IReadOnlyList<AnnotationTask> tasks, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(tasks);
        var scores = new List<TaskScore>(tasks.Count);
        foreach (var batch in tasks.Chunk(TasksPerBatch))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var items = batch.SelectMany(t => t.Responses.Select(r => new ScoringItem(t.Prompt, r))).ToList();
            var raw = scorer.Score(items, cancellationToken);
            int offset = 0;
            foreach (var task in batch)
            {
                var rewards = raw.Skip(offset).Take(task.Responses.Count).Select(s => s.Raw).ToArray();
                offset += task.Responses.Count;
                scores.Add(new TaskScore(task.Id, Uncertainty(rewards, scorer.Temperature), rewards));
            }
            progress?.Report(scores.Count);
        }
        return scores;
    }

    /// <summary>
    /// Scores every task of <paramref name="store"/> with the model and makes it the one ordering the queue
    /// (<see cref="AnnotationStore.ImportScores"/>); returns what was stored.
    /// </summary>
    public static ModelInfo ImportModel(AnnotationStore store, RewardScorer scorer, string modelDirectory, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(scorer);
        var tasks = store.Tasks();
        if (tasks.Count == 0) throw new InvalidDataException($"{store.Path} has no tasks; add them with `rewardkit annotate serve --tasks FILE` first.");
        var scores = Score(scorer, tasks, progress, cancellationToken);
        var info = new ModelInfo(scorer.Metadata.Name, scorer.Metadata.Version, Path.GetFullPath(modelDirectory), DateTimeOffset.UtcNow, scores.Count);
        store.ImportScores(info, scores);
        return info;
    }
}
