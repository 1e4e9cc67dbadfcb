using System.Security.Cryptography;
using System.Text.Json;
using RewardKit.Distributed;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Training;

/// <summary>
/// What a training run does differently as one rank of a data-parallel job, in one place (every method is a no-op or the
/// identity in a single process). Every rank reads the data and follows the same global batch plan; each computes its
/// contiguous shard of every global micro-batch (<see cref="Shard{T}"/>) and scales its loss by the shard's share
/// (<see cref="ScaledLoss"/>); <see cref="Reducer"/>, plugged into <see cref="TrainingStep.GradientReducer"/>, sums the
/// gradients, the reported loss and the tokens with Allreduce, so every rank applies the same update. Per-step rewards,
/// evaluations and the statistics sample are combined the same way, and the ranks agree on when to stop
/// (<see cref="AgreeToStop"/>). Rank 0 alone writes files; on resume it alone reads the checkpoint and broadcasts it.
/// Used by <see cref="TrainingRun"/> and <see cref="SftWarmStart"/>; a trainer built on <see cref="TrainingStep"/> needs
/// only <see cref="Shard{T}"/>, <see cref="ScaledLoss"/>, <see cref="Dropout"/> and <see cref="Reducer"/>.
/// </summary>
internal sealed class DataParallel(ICommunicator communicator, ulong seed)
{
    /// <summary>The one-process run: every method is a no-op or the identity.</summary>
    public static DataParallel SingleProcess(ulong seed) => new(SingleProcessCommunicator.Instance, seed);

    public ICommunicator Communicator { get; } = communicator;
    public AllreduceGradients Reducer { get; } = new(communicator);
    public int Size => Communicator.Size;
    public int Rank => Communicator.Rank;
    public bool IsRoot => Communicator.Rank == 0;

    /// <summary>
    /// This rank's contiguous part of a global micro-batch, its position in the batch, and the share of the global loss it
    /// carries: rows_rank / rows (or Σ weights of the rows / Σ weights, when the loss is a weighted mean). A rank with no
    /// rows, or rows of weight 0, gets an empty part and share 0.
    /// </summary>
    public (T[] Part, Range Range, float Share) Shard<T>(T[] global, Func<T, float>? weight)
    {
        if (Size == 1) return (global, Range.All, 1f);
        var range = Communicator.Shard(global.Length);
        var part = global[range];
        double total = weight is null ? global.Length : global.Sum(x => (double)weight(x));
        double mine = weight is null ? part.Length : part.Sum(x => (double)weight(x));
        if (total <= 0) return (part, range, 0f);   // the loss throws here as in one process (weights summing to 0, nothing to predict)
        return mine > 0 ? (part, range, (float)(mine / total)) : ([], range, 0f);
    }

    /// <summary>
    /// This rank's contribution to the step's loss: <paramref name="loss"/> (the mean over its rows) times its
    /// <paramref name="share"/>; the unchanged loss in a single process.
    /// </summary>
    public static MicroBatchLoss ScaledLoss(Tape tape, Tensor loss, float share, long tokens) =>
        new(share == 1f ? loss : tape.Scale(loss, share), tokens);

    /// <summary>The loss of a rank whose shard of a micro-batch is empty: zero, adding nothing to the gradient.</summary>
    public static MicroBatchLoss NoRows(Tape tape) => new(tape.Zeros([1], requiresGrad: true), 0);

    /// <summary>
    /// The dropout stream of micro-batch <paramref name="micro"/> of step <paramref name="step"/>: the run's one stream in a
    /// single process; with several ranks a fresh stream per (seed, rank, step, micro-batch), so every rank masks its own rows
    /// differently and a resumed run (with any world size) needs no per-rank state in the checkpoint.
    /// </summary>
    public Rng Dropout(Rng shared, long step, int micro) => Size == 1 ? shared
        : new Rng(seed ^ 0xD1B54A32D192ED03UL ^ ((ulong)Rank * 0x9E3779B97F4A7C15UL) ^ ((ulong)step * 0xBF58476D1CE4E5B9UL) ^ ((ulong)micro * 0x94D049BB133111EBUL));

    /// <summary>
    /// Whether to stop before the next step: <paramref name="requested"/> in a single process; with several ranks, whether
    /// any rank was asked to (Ctrl+C or a signal reaches ranks at different moments; all must checkpoint at the same step).
    /// </summary>
    public bool AgreeToStop(bool requested)
    {
        if (Size == 1) return requested;
        var flag = new[] { requested ? 1.0 : 0.0 };
        Communicator.AllreduceSum(flag);
        return flag[0] > 0;
    }

    /// <summary>
    /// Runs <paramref name="prepare"/> on rank 0 first, then on the others (e.g. a cache that the first call fills, so ranks
    /// sharing a disk do not write it at once).
    /// </summary>
    public T RootFirst<T>(Func<T> prepare)
    {
        if (Size == 1) return prepare();
        T value = IsRoot ? prepare() : default!;
        Communicator.Barrier();
        return IsRoot ? value : prepare();
    }

    /// <summary>Refuses options whose loss cannot be split exactly into per-rank shares.</summary>
    public void RequireSplittable(RewardTrainingOptions o)
    {
        if (Size > 1 && o.UseWeights && o.CenterRewardsCoefficient > 0)
            throw new ArgumentException("training options 'use_weights' with 'center_rewards_coefficient' > 0 cannot be split exactly over several ranks (one loss is a weighted mean, the other a plain mean); drop one, or train in one process.");
    }

    /// <summary>Checks that every rank read the same training data (the encoded split's sha256).</summary>
    public void RequireSameData(string sha256)
    {
        if (Size == 1) return;
        Communicator.RequireSameEverywhere("the training data's sha256", sha256,
            "every rank must read the same files in the same order: copy them to the same paths on every machine.");
    }

    /// <summary>Rank 0's checkpoint (read there only: the output folder need not be shared) on every rank; null when not resuming.</summary>
    public TrainingCheckpoint.Contents? ShareCheckpoint(TrainingCheckpoint.Contents? rootContents)
    {
        if (Size == 1) return rootContents;
        var header = IsRoot && rootContents is { } c
            ? JsonSerializer.Serialize(new CheckpointHeader(JsonSerializer.Serialize(c.State), c.Parameters.Length,
                [.. c.Optimizer.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => new NamedLength(k.Key, k.Value.Length))], c.Best?.Length ?? -1))
            : IsRoot ? "null" : null;
        var h = JsonSerializer.Deserialize<CheckpointHeader>(Communicator.BroadcastString(header));
        if (h is null) return null;
        float[] Share(float[]? mine, int length)
        {
            var values = IsRoot ? mine! : new float[length];
            Communicator.Broadcast(values.AsSpan());
            return values;
        }
        var parameters = Share(rootContents?.Parameters, h.Parameters);
        var optimizer = h.Optimizer.ToDictionary(o => o.Name, o => Share(rootContents?.Optimizer[o.Name], o.Length));
        var best = h.Best < 0 ? null : Share(rootContents?.Best, h.Best);
        return new TrainingCheckpoint.Contents(JsonSerializer.Deserialize<TrainingState>(h.State)!, parameters, optimizer, best);
    }

    sealed record NamedLength(string Name, int Length);
    sealed record CheckpointHeader(string State, int Parameters, NamedLength[] Optimizer, int Best);

    /// <summary>
    /// Rank 0's tokenizer folder on every rank (resuming: it is in rank 0's checkpoint); the other ranks receive it in a
    /// temporary folder, which they delete once loaded.
    /// </summary>
    public ByteLevelBpeTokenizer ShareTokenizer(string rootFolder)
    {
        if (Size == 1) return ByteLevelBpeTokenizer.FromDirectory(rootFolder);
        byte[]? packed = null;
        if (IsRoot)
        {
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                foreach (var file in Directory.EnumerateFiles(rootFolder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    writer.Write(Path.GetRelativePath(rootFolder, file));
                    var bytes = File.ReadAllBytes(file);
                    writer.Write(bytes.Length);
                    writer.Write(bytes);
                }
            packed = stream.ToArray();
        }
        packed = Communicator.BroadcastBlock(packed);
        if (IsRoot) return ByteLevelBpeTokenizer.FromDirectory(rootFolder);
        var folder = Path.Combine(Path.GetTempPath(), $"rewardkit-tokenizer-rank{Rank}-{Guid.NewGuid():N}");
        try
        {
            using var reader = new BinaryReader(new MemoryStream(packed));
            while (reader.BaseStream.Position < reader.BaseStream.Length)
            {
                var path = Path.Combine(folder, reader.ReadString());
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, reader.ReadBytes(reader.ReadInt32()));
            }
            return ByteLevelBpeTokenizer.FromDirectory(folder);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Checks that every rank built the same tokenizer (each trains it on the same data, deterministically).</summary>
    public void RequireSameTokenizer(ByteLevelBpeTokenizer tokenizer)
    {
        if (Size == 1) return;
        var file = Path.Combine(Path.GetTempPath(), $"rewardkit-tokenizer-rank{Rank}-{Guid.NewGuid():N}.json");
        try
        {
            tokenizer.SaveTokenizerJson(file);
            Communicator.RequireSameEverywhere("the tokenizer (sha256 of tokenizer.json)", Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))),
                "every rank must train on the same files with the same options, or pass --tokenizer.");
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Copies rank 0's weights to every rank, then checks they agree (a cheap guard against ranks drifting apart).</summary>
    public void ShareParameters(ParameterSet parameters)
    {
        if (Size == 1) return;
        Communicator.Broadcast(parameters.Values);
    }

    /// <summary>Throws on every rank when the weights differ between ranks (checked at each checkpoint).</summary>
    public void RequireSameParameters(ParameterSet parameters, long step)
    {
        if (Size == 1) return;
        var hash = Convert.ToHexStringLower(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes((ReadOnlySpan<float>)parameters.Values)));
        Communicator.RequireSameEverywhere($"the weights' sha256 at step {step}", hash,
            "the ranks drifted apart (non-deterministic reduction?); please report it with the MPI library's version.");
    }

    /// <summary>
    /// The rewards of <paramref name="pairs"/> scored in shards: <paramref name="score"/> scores this rank's contiguous
    /// shard, then the arrays are assembled on every rank (each rank writes its rows, zeros elsewhere, and the Allreduce
    /// sum copies every value exactly).
    /// </summary>
    public (float[] Chosen, float[] Rejected) ScoreSharded(IReadOnlyList<EncodedPair> pairs, Func<IReadOnlyList<EncodedPair>, (float[] Chosen, float[] Rejected)> score)
    {
        if (Size == 1) return score(pairs);
        int count = pairs.Count;
        var (offset, length) = Communicator.Shard(count).GetOffsetAndLength(count);
        var (chosen, rejected) = length == 0 ? ([], []) : score([.. pairs.Skip(offset).Take(length)]);
        var both = new float[2 * count];
        chosen.CopyTo(both.AsSpan(offset));
        rejected.CopyTo(both.AsSpan(count + offset));
        Communicator.AllreduceSum(both);
        return (both[..count], both[count..]);
    }

    /// <summary>The rewards one micro-batch gave this rank: its <see cref="Part"/> of the global micro-batch of <see cref="Count"/> pairs.</summary>
    public sealed record MicroRewards(int Count, Range Part, float[] Chosen, float[] Rejected);

    /// <summary>
    /// The chosen and rejected rewards of a step's global micro-batches in global order, on every rank: one small Allreduce
    /// (each rank writes its rows, zeros elsewhere, so the sum copies every value exactly).
    /// </summary>
    public (float[] Chosen, float[] Rejected) GatherRewards(IReadOnlyList<MicroRewards> micro)
    {
        if (Size == 1) return ([.. micro.SelectMany(m => m.Chosen)], [.. micro.SelectMany(m => m.Rejected)]);
        int total = micro.Sum(m => m.Count);
        var buffer = new float[2 * total];
        int offset = 0;
        foreach (var m in micro)
        {
            int start = m.Part.GetOffsetAndLength(m.Count).Offset;
            m.Chosen.CopyTo(buffer.AsSpan(offset + start));
            m.Rejected.CopyTo(buffer.AsSpan(total + offset + start));
            offset += m.Count;
        }
        Communicator.AllreduceSum(buffer);
        return (buffer[..total], buffer[total..]);
    }
}
