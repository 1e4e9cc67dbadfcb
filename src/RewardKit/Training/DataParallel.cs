using System.Security.Cryptography;
using System.Text.Json;
using RewardKit.Distributed;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Training;

/// <summary>
/// What <see cref="RewardTrainer"/> does differently as one rank of a data-parallel job (nothing in a single process):
/// every rank reads the data and follows the same global batch plan, computes its contiguous shard of every global
/// micro-batch, scales its loss by the shard's share (<see cref="AllreduceGradients"/>), and combines per-step rewards,
/// evaluations and the statistics sample with Allreduce so every rank takes the same decisions. Rank 0 alone writes files;
/// on resume it alone reads the checkpoint and broadcasts it.
/// </summary>
internal sealed class DataParallel(ICommunicator communicator, ulong seed)
{
    public ICommunicator Communicator { get; } = communicator;
    public AllreduceGradients Reducer { get; } = new(communicator);
    public int Size => Communicator.Size;
    public int Rank => Communicator.Rank;
    public bool IsRoot => Communicator.Rank == 0;

    /// <summary>
    /// This rank's contiguous part of a global micro-batch and the share of the global loss it carries: rows_rank / rows
    /// (or Σ weights of the rows / Σ weights, when the loss is a weighted mean). A rank with no rows, or rows of weight 0,
    /// gets an empty part and share 0.
    /// </summary>
    public (T[] Part, float Share) Shard<T>(T[] global, Func<T, float>? weight)
    {
        if (Size == 1) return (global, 1f);
        var part = global[Communicator.Shard(global.Length)];
        double total = weight is null ? global.Length : global.Sum(x => (double)weight(x));
        double mine = weight is null ? part.Length : part.Sum(x => (double)weight(x));
        if (total <= 0) return (part, 0f);   // the loss throws here as in one process (weights summing to 0, nothing to predict)
        return mine > 0 ? (part, (float)(mine / total)) : ([], 0f);
    }

    /// <summary>
    /// The dropout stream of micro-batch <paramref name="micro"/> of step <paramref name="step"/>: the run's one stream in a
    /// single process; with several ranks a fresh stream per (seed, rank, step, micro-batch), so every rank masks its own rows
    /// differently and a resumed run (with any world size) needs no per-rank state in the checkpoint.
    /// </summary>
    public Rng Dropout(Rng shared, long step, int micro) => Size == 1 ? shared
        : new Rng(seed ^ 0xD1B54A32D192ED03UL ^ ((ulong)Rank * 0x9E3779B97F4A7C15UL) ^ ((ulong)step * 0xBF58476D1CE4E5B9UL) ^ ((ulong)micro * 0x94D049BB133111EBUL));

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
    /// The rewards of <paramref name="count"/> pairs scored in shards: <paramref name="score"/> fills this rank's contiguous
    /// shard of (chosen, rejected), then the arrays are assembled on every rank.
    /// </summary>
    public (float[] Chosen, float[] Rejected) ScoreSharded(int count, Action<Range, float[], float[]> score)
    {
        var chosen = new float[count];
        var rejected = new float[count];
        var shard = Size == 1 ? Range.All : Communicator.Shard(count);
        score(shard, chosen, rejected);
        if (Size == 1) return (chosen, rejected);
        var both = new float[2 * count];
        chosen.AsSpan(shard).CopyTo(both.AsSpan(shard));
        var offset = shard.GetOffsetAndLength(count);
        rejected.AsSpan(shard).CopyTo(both.AsSpan(count + offset.Offset, offset.Length));
        Communicator.AllreduceSum(both);
        return (both[..count], both[count..]);
    }

    /// <summary>The rewards one micro-batch gave this rank: its <see cref="Part"/> of the global micro-batch of <see cref="Count"/> pairs.</summary>
    public sealed record MicroRewards(int Count, Range Part, float[] Chosen, float[] Rejected);

    /// <summary>
    /// One small Allreduce after each step: the chosen and rejected rewards of the whole global batch in global order (each
    /// rank writes its rows, zeros elsewhere, so the sum copies every value exactly), the tokens of all ranks, and whether
    /// any rank was asked to stop (Ctrl+C reaches ranks at different moments; all must checkpoint at the same step).
    /// </summary>
    public (float[] Chosen, float[] Rejected, long Tokens, bool Stop) CombineStep(IReadOnlyList<MicroRewards> micro, long tokens, bool stop)
    {
        int total = micro.Sum(m => m.Count);
        var buffer = new double[2 * total + 2];
        int offset = 0;
        foreach (var m in micro)
        {
            var (start, length) = m.Part.GetOffsetAndLength(m.Count);
            for (int i = 0; i < length; i++)
            {
                buffer[offset + start + i] = m.Chosen[i];
                buffer[total + offset + start + i] = m.Rejected[i];
            }
            offset += m.Count;
        }
        buffer[^2] = tokens;
        buffer[^1] = stop ? 1 : 0;
        if (Size > 1) Communicator.AllreduceSum(buffer);
        return ([.. buffer[..total].Select(x => (float)x)], [.. buffer[total..(2 * total)].Select(x => (float)x)], (long)buffer[^2], buffer[^1] > 0);
    }
}
