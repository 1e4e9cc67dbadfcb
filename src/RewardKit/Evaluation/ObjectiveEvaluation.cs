using RewardKit.Data;
using RewardKit.Inference;

namespace RewardKit.Evaluation;

/// <summary>
/// Accuracy per objective on the records' per-objective labels (the built-in world's <c>labels</c>: +1 chosen better on that
/// objective, −1 rejected better, 0 or absent: no label, skipped). A multi-objective model (<see cref="IObjectiveRewardModel"/>)
/// is judged by its head for the objective; any other model by its one reward, so the two can be compared label for label.
/// </summary>
public static class ObjectiveEvaluation
{
    /// <summary>One objective's accuracy (ties half) and the number of labelled pairs it is measured on.</summary>
    public sealed record ObjectiveAccuracy(double Accuracy, int Pairs);

    /// <summary>
    /// Accuracy per objective over <paramref name="pairs"/>: the model's objectives when it has heads, else every objective
    /// some pair carries a label for (in name order). Empty when no pair carries labels.
    /// </summary>
    public static IReadOnlyDictionary<string, ObjectiveAccuracy> Evaluate(IRewardModel model, IReadOnlyList<PreferencePair> pairs, int batchSize = 32,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        var heads = model as IObjectiveRewardModel;
        var names = heads?.Objectives.Names ?? [.. pairs.SelectMany(p => p.Labels.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        var result = new Dictionary<string, ObjectiveAccuracy>(StringComparer.Ordinal);
        if (names.Count == 0 || pairs.All(p => p.Labels.Count == 0)) return result;
        int k = heads?.Objectives.Count ?? 1;
        var sequences = new List<int[]>(2 * pairs.Count);
        foreach (var p in pairs) { sequences.Add(model.Encode(p.Prompt, p.Chosen)); sequences.Add(model.Encode(p.Prompt, p.Rejected)); }
        var outputs = new float[sequences.Count * k];                                        // (2n, K): chosen 2i, rejected 2i + 1
        for (int start = 0; start < sequences.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, sequences.Count - start);
            var batch = sequences.GetRange(start, count);
            if (heads is null) model.ScoreTokens(batch, outputs.AsSpan(start, count), cancellationToken);
            else heads.ScoreObjectives(batch, outputs.AsSpan(start * k, count * k), cancellationToken);
        }
        for (int j = 0; j < names.Count; j++)
        {
            int head = heads is null ? 0 : j;
            double correct = 0;
            int labelled = 0;
            for (int i = 0; i < pairs.Count; i++)
            {
                if (!pairs[i].Labels.TryGetValue(names[j], out var label) || label == 0) continue;
                double delta = Math.Sign(label) * (outputs[2 * i * k + head] - outputs[(2 * i + 1) * k + head]);
                correct += delta > 0 ? 1 : delta == 0 ? 0.5 : 0;
                labelled++;
            }
            if (labelled > 0) result[names[j]] = new ObjectiveAccuracy(correct / labelled, labelled);
        }
        return result;
    }
}
