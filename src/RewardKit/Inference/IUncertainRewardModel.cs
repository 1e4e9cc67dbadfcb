namespace RewardKit.Inference;

/// <summary>
/// A reward model that knows how sure it is: an ensemble of K members whose rewards are combined into a mean (the reward of
/// <see cref="IRewardModel.ScoreTokens"/>) and a standard deviation across members, the epistemic uncertainty
/// (Lakshminarayanan et al. 2017, deep ensembles).
/// </summary>
public interface IUncertainRewardModel : IRewardModel
{
    /// <summary>The members K.</summary>
    int Members { get; }

    /// <summary>
    /// Every member's reward of every sequence, row-major (n·K values: sequence i's member k at i·K + k), each member centred
    /// on its own training mean so the members' arbitrary offsets (Bradley-Terry rewards are shift-invariant) do not count
    /// as disagreement.
    /// </summary>
    void ScoreMembers(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default);

    /// <summary>
    /// Each sequence's reward (as <see cref="IRewardModel.ScoreTokens"/> gives it) and the standard deviation of the members'
    /// rewards, in one pass of every member.
    /// </summary>
    void ScoreWithStd(IReadOnlyList<int[]> sequences, Span<float> rewards, Span<float> std, CancellationToken cancellationToken = default);
}

/// <summary>The mean and standard deviation of an ensemble's rewards, and the conservative reward mean − k·σ.</summary>
public static class EnsembleStatistics
{
    /// <summary>The mean and (population) standard deviation over the K values of <paramref name="members"/>.</summary>
    public static (double Mean, double Std) MeanStd(ReadOnlySpan<float> members)
    {
        if (members.IsEmpty) throw new ArgumentException("MeanStd: no member rewards.", nameof(members));
        double mean = 0;
        foreach (var r in members) mean += r;
        mean /= members.Length;
        double variance = 0;
        foreach (var r in members) variance += (r - mean) * (r - mean);
        return (mean, Math.Sqrt(variance / members.Length));
    }

    /// <summary>The mean and standard deviation of each sequence's reward, scored by every member in one batched pass each.</summary>
    public static (double[] Mean, double[] Std) Score(IUncertainRewardModel model, IReadOnlyList<int[]> sequences, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequences);
        int k = model.Members;
        var rewards = new float[sequences.Count * k];
        model.ScoreMembers(sequences, rewards, cancellationToken);
        var mean = new double[sequences.Count];
        var std = new double[sequences.Count];
        for (int i = 0; i < sequences.Count; i++) (mean[i], std[i]) = MeanStd(rewards.AsSpan(i * k, k));
        return (mean, std);
    }

    /// <summary>
    /// Scores pairs (a prompt and responses a and b) with every member, <paramref name="pairsPerBatch"/> pairs per batch: each
    /// pair's mean reward difference r(a) − r(b) over members and their disagreement (<see cref="PairDisagreement"/>) at
    /// temperature <paramref name="temperature"/>.
    /// </summary>
    public static (double[] MeanDifference, double[] Disagreement) ScorePairs(IUncertainRewardModel model, IReadOnlyList<(string Prompt, string A, string B)> pairs,
        double temperature = 1, int pairsPerBatch = 64, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentOutOfRangeException.ThrowIfLessThan(pairsPerBatch, 1);
        int k = model.Members;
        var difference = new double[pairs.Count];
        var disagreement = new double[pairs.Count];
        for (int start = 0; start < pairs.Count; start += pairsPerBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(pairsPerBatch, pairs.Count - start);
            var sequences = new List<int[]>(2 * count);   // a at 2i, b at 2i + 1
            for (int i = start; i < start + count; i++)
            {
                sequences.Add(model.Encode(pairs[i].Prompt, pairs[i].A));
                sequences.Add(model.Encode(pairs[i].Prompt, pairs[i].B));
            }
            var members = new float[sequences.Count * k];   // (2·count, K)
            model.ScoreMembers(sequences, members, cancellationToken);
            for (int i = 0; i < count; i++)
                (difference[start + i], disagreement[start + i]) = PairDisagreement(members.AsSpan(2 * i * k, k), members.AsSpan((2 * i + 1) * k, k), temperature);
            progress?.Report(start + count);
        }
        return (difference, disagreement);
    }

    /// <summary>
    /// The disagreement of the members about a pair, from rows <paramref name="a"/> and <paramref name="b"/> (K rewards each):
    /// the standard deviation over members of their preference probabilities p_k = σ((r_k(a) − r_k(b)) / T), and the mean
    /// difference over members. In probability space because the members' reward scales differ: the standard deviation of
    /// the raw differences grows with the margin, so it ranks the surest pairs as the most disputed (on the built-in world
    /// its AUROC for the ensemble's errors was 0.47, below chance; see bench/results/2026-12-08-ensembles.md).
    /// </summary>
    public static (double MeanDifference, double Disagreement) PairDisagreement(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double temperature = 1)
    {
        if (a.Length != b.Length || a.IsEmpty) throw new ArgumentException($"PairDisagreement: {a.Length} and {b.Length} member rewards; both rows need the same K ≥ 1.");
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "the temperature must be positive.");
        Span<float> differences = a.Length <= 64 ? stackalloc float[a.Length] : new float[a.Length];
        Span<float> probabilities = a.Length <= 64 ? stackalloc float[a.Length] : new float[a.Length];
        for (int k = 0; k < a.Length; k++)
        {
            differences[k] = a[k] - b[k];
            probabilities[k] = (float)RewardKit.Tensors.Kernels.Activations.Sigmoid(differences[k] / temperature);
        }
        return (MeanStd(differences).Mean, MeanStd(probabilities).Std);
    }
}
