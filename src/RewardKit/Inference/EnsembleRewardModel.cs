using RewardKit.IO;
using RewardKit.Models.Ensemble;

namespace RewardKit.Inference;

/// <summary>
/// An ensemble of K reward models (<see cref="EnsembleFolder"/>) as one <see cref="IUncertainRewardModel"/>: each member
/// scores every sequence, centred on its own training mean; the reward is the mean over members minus
/// <see cref="ConservativeWeight"/> times their standard deviation (0 by default: the plain mean; k &gt; 0 gives the
/// conservative reward mean − k·σ, e.g. for RL against uncertain rewards, Coste et al. 2023). The members share one
/// encoding (checked at load), so <see cref="Encode"/> is member 0's.
/// </summary>
public sealed class EnsembleRewardModel : IUncertainRewardModel
{
    readonly IRewardModel[] _members;
    readonly double[] _offsets;
    readonly bool _ownsMembers;

    /// <summary>Combines <paramref name="members"/> (owned: disposed with the ensemble) under <paramref name="metadata"/>.</summary>
    public EnsembleRewardModel(IReadOnlyList<IRewardModel> members, RewardModelMetadata metadata) : this([.. members], metadata, 0, ownsMembers: true) { }

    EnsembleRewardModel(IRewardModel[] members, RewardModelMetadata metadata, double conservativeWeight, bool ownsMembers)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Length < 2) throw new ArgumentException($"EnsembleRewardModel: an ensemble needs at least 2 members, got {members.Length}.", nameof(members));
        _members = members;
        _offsets = [.. members.Select(m => m.Metadata.RewardMean)];
        Metadata = metadata ?? throw new ArgumentNullException(nameof(metadata));
        ConservativeWeight = conservativeWeight;
        _ownsMembers = ownsMembers;
    }

    /// <summary>
    /// Opens the ensemble folder <paramref name="directory"/>: each member through <paramref name="loadMember"/> (the one
    /// loader), refusing members that encode text differently (template, maximum length, tokenizer) with an error naming them.
    /// </summary>
    public static EnsembleRewardModel Load(string directory, Func<string, IRewardModel> loadMember, bool verifyVersion = true)
    {
        ArgumentNullException.ThrowIfNull(loadMember);
        var metadata = RewardModelMetadata.Load(directory);
        var paths = EnsembleFolder.MemberDirectories(directory, metadata);
        var members = new List<IRewardModel>(paths.Count);
        try
        {
            foreach (var path in paths) members.Add(loadMember(path));
            RequireSameEncoding(directory, paths, members);
            if (verifyVersion)
            {
                var expected = EnsembleFolder.VersionOf(members.Select(m => m.Metadata.Version));
                if (!string.Equals(expected, metadata.Version, StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException($"{Path.Combine(directory, RewardModelMetadata.FileName)}: version {metadata.Version} is not the one of its members ({expected}); "
                        + "a member changed after the ensemble was saved. Restore the folder, or load it anyway with --skip-version-check.");
            }
            return new EnsembleRewardModel(members, metadata);
        }
        catch
        {
            foreach (var m in members) m.Dispose();
            throw;
        }
    }

    static void RequireSameEncoding(string directory, IReadOnlyList<string> paths, IReadOnlyList<IRewardModel> members)
    {
        const string prompt = "Probe prompt: does every member encode text alike?", response = "Yes — the same ids, 123 times.";
        var first = members[0].Encode(prompt, response);
        for (int k = 1; k < members.Count; k++)
        {
            var (a, b) = (members[0].Metadata, members[k].Metadata);
            if (a.Template != b.Template || a.MaxLength != b.MaxLength || a.AppendEndOfText != b.AppendEndOfText || !members[k].Encode(prompt, response).SequenceEqual(first))
                throw new InvalidDataException($"{directory}: member {paths[k]} encodes text differently from {paths[0]} (template, max_length, append_eos or tokenizer); "
                    + "the members of an ensemble must share one tokenizer and template (train them with the same --tokenizer or data).");
        }
    }

    /// <inheritdoc/>
    public RewardModelMetadata Metadata { get; }

    /// <inheritdoc/>
    public int Members => _members.Length;

    /// <summary>The k of the reward mean − k·σ (0: the mean).</summary>
    public double ConservativeWeight { get; }

    /// <summary>The same ensemble scoring mean − <paramref name="k"/>·σ (a view: shares the members; dispose the original only).</summary>
    public EnsembleRewardModel WithConservativeWeight(double k)
    {
        if (!(k >= 0) || !double.IsFinite(k)) throw new ArgumentOutOfRangeException(nameof(k), k, "the conservative weight k of mean − k·σ must be a finite number ≥ 0.");
        return new EnsembleRewardModel(_members, Metadata, k, ownsMembers: false);
    }

    /// <inheritdoc/>
    public int[] Encode(string prompt, string response) => _members[0].Encode(prompt, response);

    /// <inheritdoc/>
    public void ScoreMembers(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        int k = _members.Length;
        if (rewards.Length != sequences.Count * k)
            throw new ArgumentException($"ScoreMembers: {rewards.Length} slots for {sequences.Count} sequences of {k} members.", nameof(rewards));
        var one = new float[sequences.Count];
        for (int m = 0; m < k; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _members[m].ScoreTokens(sequences, one, cancellationToken);
            for (int i = 0; i < one.Length; i++) rewards[i * k + m] = (float)(one[i] - _offsets[m]);
        }
    }

    /// <inheritdoc/>
    public void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default) =>
        ScoreWithStd(sequences, rewards, new float[sequences?.Count ?? 0], cancellationToken);

    /// <inheritdoc/>
    public void ScoreWithStd(IReadOnlyList<int[]> sequences, Span<float> rewards, Span<float> std, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (rewards.Length != sequences.Count || std.Length != sequences.Count)
            throw new ArgumentException($"ScoreWithStd: {rewards.Length} reward and {std.Length} std slots for {sequences.Count} sequences.", nameof(rewards));
        var (mean, sigma) = EnsembleStatistics.Score(this, sequences, cancellationToken);
        for (int i = 0; i < mean.Length; i++)
        {
            rewards[i] = (float)(mean[i] - ConservativeWeight * sigma[i]);
            std[i] = (float)sigma[i];
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_ownsMembers) return;
        foreach (var m in _members) m.Dispose();
    }
}
