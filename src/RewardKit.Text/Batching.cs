namespace RewardKit.Text;

/// <summary>
/// Sequences padded on the right into one (B, T) block: B rows, T = the longest row (or a fixed length).
/// Pad positions hold <see cref="PadId"/> (distinct from end-of-text) and have mask 0.
/// </summary>
public sealed class PaddedBatch
{
    PaddedBatch(int rows, int length, int padId)
    {
        Rows = rows;
        SequenceLength = length;
        PadId = padId;
        InputIds = new int[rows * length];
        AttentionMask = new int[rows * length];
        LastTokenIndex = new int[rows];
        ResponseStart = new int[rows];
        Lengths = new int[rows];
        SourceIndices = new int[rows];
    }

    /// <summary>B, the number of rows.</summary>
    public int Rows { get; }

    /// <summary>T, the padded length.</summary>
    public int SequenceLength { get; }

    /// <summary>The padding id.</summary>
    public int PadId { get; }

    /// <summary>(B, T) row-major ids.</summary>
    public int[] InputIds { get; }

    /// <summary>(B, T) row-major: 1 for real tokens, 0 for padding.</summary>
    public int[] AttentionMask { get; }

    /// <summary>(B) index of each row's last real token, where the reward is read.</summary>
    public int[] LastTokenIndex { get; }

    /// <summary>(B) index of each row's first response token.</summary>
    public int[] ResponseStart { get; }

    /// <summary>(B) real length of each row.</summary>
    public int[] Lengths { get; }

    /// <summary>(B) index of each row in the caller's list of sequences.</summary>
    public int[] SourceIndices { get; }

    /// <summary>Pad positions as a share of B*T.</summary>
    public double PaddingFraction => Rows * SequenceLength == 0 ? 0 : 1.0 - (double)Lengths.Sum() / (Rows * SequenceLength);

    /// <summary>The (B, T) mask as floats (1 real, 0 pad).</summary>
    public float[] AttentionMaskAsFloat() => Array.ConvertAll(AttentionMask, m => (float)m);

    /// <summary>
    /// Pads <paramref name="sequences"/>[<paramref name="indices"/>] (all of them when null) on the right with
    /// <paramref name="padId"/> to the longest row, or to <paramref name="padToLength"/> when given.
    /// </summary>
    public static PaddedBatch Create(IReadOnlyList<EncodedSequence> sequences, int padId,
        IReadOnlyList<int>? indices = null, int? padToLength = null)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (padId < 0) throw new ArgumentOutOfRangeException(nameof(padId), "the tokenizer has no pad id; use one with <|pad|>.");
        indices ??= Enumerable.Range(0, sequences.Count).ToArray();
        if (indices.Count == 0) throw new ArgumentException("a batch needs at least one sequence.", nameof(indices));
        int longest = 0;
        foreach (int i in indices)
        {
            if ((uint)i >= (uint)sequences.Count) throw new ArgumentOutOfRangeException(nameof(indices), $"index {i} is outside the {sequences.Count} sequences.");
            if (sequences[i].Length == 0) throw new ArgumentException($"sequence {i} is empty; it has no last token to read a reward at.", nameof(sequences));
            longest = Math.Max(longest, sequences[i].Length);
        }
        int t = padToLength ?? longest;
        if (t < longest) throw new ArgumentException($"padToLength {t} is shorter than the longest sequence ({longest}).", nameof(padToLength));

        var batch = new PaddedBatch(indices.Count, t, padId);
        for (int row = 0; row < indices.Count; row++)
        {
            var s = sequences[indices[row]];
            var ids = batch.InputIds.AsSpan(row * t, t);
            s.Ids.CopyTo(ids);
            ids.Slice(s.Length).Fill(padId);
            batch.AttentionMask.AsSpan(row * t, s.Length).Fill(1);
            batch.LastTokenIndex[row] = s.LastTokenIndex;
            batch.ResponseStart[row] = s.ResponseStart;
            batch.Lengths[row] = s.Length;
            batch.SourceIndices[row] = indices[row];
        }
        return batch;
    }
}

/// <summary>Settings of <see cref="LengthBuckets.Plan"/>.</summary>
public sealed record BatchingOptions
{
    /// <summary>Sequences per batch. Default 8.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Batches per bucket: sequences are sorted by length within windows of BatchSize * BucketBatches
    /// (after shuffling), so batches hold similar lengths while the order stays random. Default 32;
    /// 1 turns bucketing off.</summary>
    public int BucketBatches { get; init; } = 32;

    /// <summary>Shuffle sequences before bucketing and the batches afterwards. Default true.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the shuffles; the same seed gives the same batches. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Leave out a last, smaller batch. Default false.</summary>
    public bool DropLast { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and the fix.</summary>
    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentException($"BatchSize is {BatchSize}; it must be at least 1.", nameof(BatchSize));
        if (BucketBatches < 1) throw new ArgumentException($"BucketBatches is {BucketBatches}; it must be at least 1 (1 = no bucketing).", nameof(BucketBatches));
    }
}

/// <summary>A list of batches (indices into the caller's sequences) and the padding they cost.</summary>
/// <param name="Batches">Each batch's sequence indices.</param>
/// <param name="RealTokens">Tokens in all batches.</param>
/// <param name="PaddedSlots">B*T summed over batches.</param>
public sealed record BatchPlan(IReadOnlyList<int[]> Batches, long RealTokens, long PaddedSlots)
{
    /// <summary>Share of padded slots that are padding.</summary>
    public double PaddingFraction => PaddedSlots == 0 ? 0 : 1.0 - (double)RealTokens / PaddedSlots;
}

/// <summary>Length-bucketed batching: cuts padding by putting sequences of similar length in the same batch.</summary>
public static class LengthBuckets
{
    /// <summary>
    /// Plans batches over sequences with the given <paramref name="lengths"/>: shuffle (seeded), sort by length
    /// within each bucket, cut into batches, shuffle the batches (seeded). For preference pairs pass the longer of
    /// the two sequences of each pair.
    /// </summary>
    public static BatchPlan Plan(IReadOnlyList<int> lengths, BatchingOptions options)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var rng = new Random(options.Seed);
        var order = Enumerable.Range(0, lengths.Count).ToArray();
        if (options.Shuffle) rng.Shuffle(order);

        int bucket = options.BatchSize * options.BucketBatches;
        if (options.BucketBatches > 1)
            for (int start = 0; start < order.Length; start += bucket)
            {
                var window = order.AsSpan(start, Math.Min(bucket, order.Length - start));
                // Longest first within the bucket, ties by index, so the plan depends only on lengths and seed.
                window.Sort((a, b) => lengths[a] != lengths[b] ? lengths[b].CompareTo(lengths[a]) : a.CompareTo(b));
            }

        var batches = new List<int[]>();
        for (int start = 0; start < order.Length; start += options.BatchSize)
        {
            int n = Math.Min(options.BatchSize, order.Length - start);
            if (n < options.BatchSize && options.DropLast) break;
            batches.Add(order.AsSpan(start, n).ToArray());
        }
        if (options.Shuffle)
        {
            var shuffled = batches.ToArray();
            rng.Shuffle(shuffled);
            batches = [.. shuffled];
        }

        long real = 0, slots = 0;
        foreach (var b in batches)
        {
            int max = 0;
            foreach (int i in b)
            {
                real += lengths[i];
                max = Math.Max(max, lengths[i]);
            }
            slots += (long)max * b.Length;
        }
        return new BatchPlan(batches, real, slots);
    }
}
