// Shapes: B = prompts × samples rows of a rollout (prompt-major), R its longest response; per-token grids (B·R) as in Advantages.cs.
using System.Text.Json;
using RewardKit.Distributed;
using RewardKit.Generation;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Training;

namespace RewardKit.Rl;

/// <summary>
/// What an RL step does differently as one rank of a data-parallel job (<c>mpirun -np N rewardkit rl</c>), in one place.
/// Every rank draws the same prompts and follows the same minibatch plan; each generates and scores its contiguous share
/// of the rollout's rows, and small Allreduces (each rank writes its rows, zeros elsewhere, so the sum copies every value
/// exactly) give every rank the whole rollout, so advantages, whitening, baselines and reward scaling use the global batch
/// as in one process. Each minibatch is split by response tokens (the losses are token means) and its gradients summed
/// through <see cref="DataParallel.Reducer"/>. In one process every method is the identity.
/// </summary>
public sealed partial class RlTrainer
{
    /// <summary>What <see cref="ScoreShard"/> gives every rank: (B·R) grids and (B) scores of the whole rollout.</summary>
    sealed record ScoredRows(float[] Old, float[] Entropy, float[] Reference, float[]? Values, float[] Proxy, int[] Lengths, int Width);

    /// <summary>
    /// Every rank's generated rows on every rank: row r's length, finish reason and tokens (ids are exact in doubles).
    /// <paramref name="prompts"/> holds every row's prompt ids (the same on every rank); this rank's rows start at
    /// <paramref name="offset"/>. Sampling log-probs are not gathered (the step recomputes them).
    /// </summary>
    GenerationResult GatherGeneration(int[][] prompts, int offset, GenerationResult part)
    {
        int rows = prompts.Length, width = _options.MaxNewTokens + 2;
        var buffer = new double[rows * width];
        for (int i = 0; i < part.Tokens.Length; i++)
        {
            var tokens = part.Tokens[i];
            if (tokens.Length > _options.MaxNewTokens)
                throw new InvalidOperationException($"rl: a sample of {tokens.Length} tokens exceeds max_new_tokens {_options.MaxNewTokens}.");
            int at = (offset + i) * width;
            buffer[at] = tokens.Length;
            buffer[at + 1] = (int)part.Finish[i];
            for (int t = 0; t < tokens.Length; t++) buffer[at + 2 + t] = tokens[t];
        }
        _dp.Communicator.AllreduceSum(buffer);
        var all = new int[rows][];
        var finish = new FinishReason[rows];
        for (int r = 0; r < rows; r++)
        {
            int at = r * width, length = (int)buffer[at];
            finish[r] = (FinishReason)(int)buffer[at + 1];
            all[r] = new int[length];
            for (int t = 0; t < length; t++) all[r][t] = (int)buffer[at + 2 + t];
        }
        return new GenerationResult(prompts, all, [.. all.Select(_ => Array.Empty<float>())], finish);
    }

    /// <summary>
    /// Log-probs under the policy and the reference, entropies, values and proxy scores of every row of
    /// <paramref name="batch"/>: this rank computes its share of the rows, one Allreduce assembles them on every rank.
    /// </summary>
    /// <param name="batch">(B, T) the whole rollout.</param>
    /// <param name="lengths">(B) response tokens per row.</param>
    /// <param name="proxy">The reward models' scores of the given rows.</param>
    ScoredRows ScoreShard(TokenBatch batch, int[] lengths, Func<int[], float[]> proxy)
    {
        int rows = lengths.Length, width = lengths.Length == 0 ? 0 : lengths.Max(), cells = rows * width;
        var mine = Enumerable.Range(0, rows).ToArray()[_dp.Communicator.Shard(rows)];
        var part = _dp.Size == 1 ? batch : Rollout.RowsOf(batch, mine);
        int grids = _critic is null ? 3 : 4;
        var buffer = new float[grids * cells + rows];
        if (mine.Length > 0)
        {
            int offset = mine[0];
            var (old, entropy, partLengths, partWidth) = LogProbs(_policy.Model, part, entropy: true);
            void Place(float[] grid, int index)
            {
                for (int i = 0; i < mine.Length; i++)
                    grid.AsSpan(i * partWidth, partLengths[i]).CopyTo(buffer.AsSpan(index * cells + (offset + i) * width));
            }
            Place(old, 0);
            Place(entropy!, 1);
            Place(LogProbs(_reference, part, entropy: false).LogProbs, 2);
            if (_critic is not null) Place(Values(part), 3);
            proxy(mine).CopyTo(buffer.AsSpan(grids * cells + offset));
        }
        _dp.Communicator.AllreduceSum(buffer);
        float[] Grid(int index) => buffer[(index * cells)..((index + 1) * cells)];
        return new ScoredRows(Grid(0), Grid(1), Grid(2), _critic is null ? null : Grid(3), buffer[(grids * cells)..], lengths, width);
    }

    /// <summary>
    /// This rank's rows of a global minibatch and their share of its loss (its response tokens over the minibatch's): the
    /// losses are token means, so the shares' sum over ranks is the one-process loss.
    /// </summary>
    (int[] Rows, float Share) ShardMinibatch(Rollout r, int[] rows)
    {
        var (part, _, share) = _dp.Shard(rows, b => r.Lengths[b]);
        return (part, share);
    }

    /// <summary>Σ over ranks of each rank's statistics weighted by its share (token means of the whole minibatch); the values themselves in one process.</summary>
    double[] ShareWeighted(float share, params double[] values)
    {
        if (_dp.Size == 1) return values;
        for (int i = 0; i < values.Length; i++) values[i] = share == 0 || !double.IsFinite(values[i]) ? 0 : values[i] * share;
        _dp.Communicator.AllreduceSum(values);
        return values;
    }

    /// <summary>Rank 0's checkpoint (read there only: the output folder need not be shared) on every rank; null without one.</summary>
    RlCheckpoint.Contents? ShareCheckpoint(string directory)
    {
        var mine = _dp.IsRoot ? RlCheckpoint.LoadIfPresent(directory) : null;
        if (_dp.Size == 1) return mine;
        var header = _dp.IsRoot
            ? JsonSerializer.Serialize(mine is null ? null : new CheckpointHeader(mine.State, [.. mine.Tensors.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new NamedLength(t.Key, t.Value.Length))]))
            : null;
        var h = JsonSerializer.Deserialize<CheckpointHeader>(_dp.Communicator.BroadcastString(header));
        if (h is null) return null;
        var tensors = new Dictionary<string, float[]>();
        foreach (var t in h.Tensors)
        {
            var values = _dp.IsRoot ? mine!.Tensors[t.Name] : new float[t.Length];
            _dp.Communicator.Broadcast(values.AsSpan());
            tensors[t.Name] = values;
        }
        return new RlCheckpoint.Contents(h.State, tensors);
    }

    sealed record NamedLength(string Name, int Length);
    sealed record CheckpointHeader(RlState State, NamedLength[] Tensors);
}
