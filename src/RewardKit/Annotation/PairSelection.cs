using System.Text.Json;
using System.Text.Json.Nodes;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Annotation;

/// <summary>How <see cref="PairSelection"/> ranks unlabelled pairs.</summary>
public enum SelectionCriterion
{
    /// <summary>The ensemble members' disagreement: the standard deviation over members of their preference probabilities σ((r_k(a) − r_k(b)) / T) (ensembles only).</summary>
    Disagreement,
    /// <summary>p(1 − p) with p = σ((r_a − r_b) / T), the model's predicted preference: largest for a predicted coin flip.</summary>
    Bernoulli,
}

/// <summary>One unlabelled pair: a prompt and two responses, with the record it was read from.</summary>
/// <param name="Line">1-based line of the record in its file.</param>
/// <param name="Prompt">The prompt.</param>
/// <param name="A">The first response (<c>response_a</c>, or <c>chosen</c> of a labelled record whose label is ignored).</param>
/// <param name="B">The second response (<c>response_b</c>, or <c>rejected</c>).</param>
/// <param name="Record">The record as read (written back with the selection's fields added).</param>
public sealed record UnlabeledPair(long Line, string Prompt, string A, string B, JsonObject Record);

/// <summary>
/// Active learning over pairs (<c>rewardkit select</c>): score unlabelled pairs with a reward model and pick the
/// <c>budget</c> most worth labelling: where an ensemble's members disagree most (query by committee, Seung et al. 1992),
/// or where the predicted preference is closest to a coin flip (uncertainty sampling, Settles 2009).
/// </summary>
public static class PairSelection
{
    /// <summary>Pairs scored per batch (both responses go to the forward passes together).</summary>
    const int PairsPerBatch = 64;

    /// <summary>
    /// Reads a JSONL file of pairs: <c>prompt</c> with <c>response_a</c> and <c>response_b</c>, or with <c>chosen</c> and
    /// <c>rejected</c> (the label is ignored). Blank lines are skipped; anything else that is not such a record stops the
    /// read with FILE:LINE and the fix.
    /// </summary>
    public static List<UnlabeledPair> Read(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found; pass a JSONL file of {{prompt, response_a, response_b}} records.", path);
        var pairs = new List<UnlabeledPair>();
        long line = 0;
        foreach (var text in File.ReadLines(path))
        {
            cancellationToken.ThrowIfCancellationRequested();
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonObject record;
            try { record = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{path}:{line}: the record is not a JSON object; write one {{\"prompt\", \"response_a\", \"response_b\"}} object per line."); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{line}: invalid JSON ({e.Message}); write one JSON object per line.", e); }
            var (a, b) = record.ContainsKey("response_a") || !record.ContainsKey("chosen") ? ("response_a", "response_b") : ("chosen", "rejected");
            pairs.Add(new UnlabeledPair(line, Text(record, "prompt", path, line), Text(record, a, path, line), Text(record, b, path, line), record));
        }
        if (pairs.Count == 0) throw new InvalidDataException($"{path}: no records; the file needs at least one {{\"prompt\", \"response_a\", \"response_b\"}} line.");
        return pairs;
    }

    static string Text(JsonObject record, string field, string path, long line) =>
        record[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s
        : throw new InvalidDataException($"{path}:{line}: field '{field}' is {(record.ContainsKey(field) ? "not a string" : "missing")}; "
            + "each record needs string fields prompt, response_a and response_b (or prompt, chosen and rejected).");

    /// <summary>
    /// Each pair's uncertainty under <paramref name="criterion"/> (higher: more worth labelling). Disagreement needs an
    /// ensemble (<see cref="IUncertainRewardModel"/>); p(1 − p) uses the model's reward (an ensemble's mean) and
    /// <paramref name="temperature"/>.
    /// </summary>
    public static double[] Uncertainty(IRewardModel model, IReadOnlyList<UnlabeledPair> pairs, SelectionCriterion criterion, double temperature = 1,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "the temperature must be positive.");
        var ensemble = model as IUncertainRewardModel;
        if (criterion == SelectionCriterion.Disagreement && ensemble is null)
            throw new ArgumentException($"{model.Metadata.Name} is one model, not an ensemble, so its members cannot disagree; select --by bernoulli, or train with --ensemble K.", nameof(criterion));
        if (ensemble is not null)
        {
            var (difference, disagreement) = EnsembleStatistics.ScorePairs(ensemble, [.. pairs.Select(p => (p.Prompt, p.A, p.B))], temperature, PairsPerBatch, progress, cancellationToken);
            return criterion == SelectionCriterion.Disagreement ? disagreement : [.. difference.Select(d => Bernoulli(d, temperature))];
        }
        var result = new double[pairs.Count];
        for (int start = 0; start < pairs.Count; start += PairsPerBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(PairsPerBatch, pairs.Count - start);
            var sequences = new List<int[]>(2 * count);   // a at 2i, b at 2i + 1
            for (int i = start; i < start + count; i++) { sequences.Add(model.Encode(pairs[i].Prompt, pairs[i].A)); sequences.Add(model.Encode(pairs[i].Prompt, pairs[i].B)); }
            var rewards = new float[sequences.Count];
            model.ScoreTokens(sequences, rewards, cancellationToken);
            for (int i = 0; i < count; i++) result[start + i] = Bernoulli(rewards[2 * i] - rewards[2 * i + 1], temperature);
            progress?.Report(start + count);
        }
        return result;
    }

    /// <summary>p(1 − p) for p = σ(<paramref name="difference"/> / T).</summary>
    public static double Bernoulli(double difference, double temperature)
    {
        double p = Activations.Sigmoid(difference / temperature);
        return p * (1 - p);
    }

    /// <summary>The indices of the <paramref name="budget"/> highest uncertainties, highest first (equal ones in input order).</summary>
    public static int[] Top(IReadOnlyList<double> uncertainty, int budget)
    {
        ArgumentNullException.ThrowIfNull(uncertainty);
        if (budget < 1) throw new ArgumentOutOfRangeException(nameof(budget), budget, "the budget is the number of pairs to select: at least 1.");
        return [.. Enumerable.Range(0, uncertainty.Count).OrderByDescending(i => uncertainty[i]).ThenBy(i => i).Take(budget)];
    }

    /// <summary>
    /// Writes the selected pairs to <paramref name="path"/> atomically, highest uncertainty first: each record as read with
    /// <c>uncertainty</c> and <c>source_line</c> added.
    /// </summary>
    public static void Write(string path, IReadOnlyList<UnlabeledPair> pairs, IReadOnlyList<double> uncertainty, IReadOnlyList<int> selected, SelectionCriterion criterion)
    {
        var text = new System.Text.StringBuilder();
        foreach (var i in selected)
        {
            var record = (JsonObject)pairs[i].Record.DeepClone();
            record["uncertainty"] = uncertainty[i];
            record["uncertainty_by"] = criterion.ToString().ToLowerInvariant();
            record["source_line"] = pairs[i].Line;
            text.Append(record.ToJsonString()).Append('\n');
        }
        AtomicFile.WriteAllText(path, text.ToString());
    }
}
