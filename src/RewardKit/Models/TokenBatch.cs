namespace RewardKit.Models;

/// <summary>
/// Token sequences for one forward pass, right-padded into a (B, T) grid. <see cref="Lengths"/> says how many tokens of
/// each row are real; what the padding positions hold does not matter (they are masked out and never pooled).
/// </summary>
/// <param name="Ids">(B·T) token ids, row-major.</param>
/// <param name="Batch">B, the number of rows.</param>
/// <param name="Time">T, the padded length.</param>
/// <param name="Lengths">(B) real tokens per row, each in [1, T].</param>
/// <param name="ResponseStart">(B) optional: the index of each row's first response token (for mean pooling).</param>
public sealed record TokenBatch(int[] Ids, int Batch, int Time, int[] Lengths, int[]? ResponseStart = null)
{
    /// <summary>Right-pads <paramref name="sequences"/> with <paramref name="padId"/> to the longest one.</summary>
    public static TokenBatch FromSequences(IReadOnlyList<int[]> sequences, int padId = 0, IReadOnlyList<int>? responseStarts = null)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) throw new ArgumentException("TokenBatch: no sequences.", nameof(sequences));
        int time = 0;
        for (int b = 0; b < sequences.Count; b++)
        {
            if (sequences[b] is null || sequences[b].Length == 0)
                throw new ArgumentException($"TokenBatch: sequence {b} is empty; every sequence needs at least one token to score.", nameof(sequences));
            time = Math.Max(time, sequences[b].Length);
        }
        var ids = new int[sequences.Count * time];
        Array.Fill(ids, padId);
        var lengths = new int[sequences.Count];
        for (int b = 0; b < sequences.Count; b++)
        {
            sequences[b].CopyTo(ids, b * time);
            lengths[b] = sequences[b].Length;
        }
        if (responseStarts is not null && responseStarts.Count != sequences.Count)
            throw new ArgumentException($"TokenBatch: {responseStarts.Count} response starts for {sequences.Count} sequences.", nameof(responseStarts));
        return new TokenBatch(ids, sequences.Count, time, lengths, responseStarts?.ToArray()).Validate();
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the row and the fix when the batch is inconsistent.</summary>
    public TokenBatch Validate()
    {
        if (Batch <= 0 || Time <= 0) throw new ArgumentException($"TokenBatch: Batch ({Batch}) and Time ({Time}) must be positive.");
        if (Ids is null || Ids.Length != Batch * Time) throw new ArgumentException($"TokenBatch: Ids has {Ids?.Length ?? 0} entries; Batch·Time = {Batch * Time}.");
        if (Lengths is null || Lengths.Length != Batch) throw new ArgumentException($"TokenBatch: Lengths has {Lengths?.Length ?? 0} entries for {Batch} rows.");
        for (int b = 0; b < Batch; b++)
            if (Lengths[b] < 1 || Lengths[b] > Time)
                throw new ArgumentException($"TokenBatch: row {b} has length {Lengths[b]}; lengths must be in [1, {Time}] (an empty row has no token to score).");
        if (ResponseStart is not null)
        {
            if (ResponseStart.Length != Batch) throw new ArgumentException($"TokenBatch: ResponseStart has {ResponseStart.Length} entries for {Batch} rows.");
            for (int b = 0; b < Batch; b++)
                if (ResponseStart[b] < 0 || ResponseStart[b] >= Lengths[b])
                    throw new ArgumentException($"TokenBatch: row {b} has its response start at {ResponseStart[b]}, outside its {Lengths[b]} real tokens (the response would be empty).");
        }
        return this;
    }

    /// <summary>The (B, T) key mask: 1 for a real token, 0 for padding.</summary>
    public float[] AttentionMask()
    {
        var mask = new float[Batch * Time];
        AttentionMask(mask);
        return mask;
    }

    /// <summary>Writes the (B·T) mask of <see cref="AttentionMask()"/> into <paramref name="mask"/> (without allocating).</summary>
    public void AttentionMask(Span<float> mask)
    {
        if (mask.Length != Batch * Time) throw new ArgumentException($"TokenBatch.AttentionMask: {mask.Length} floats for a ({Batch}, {Time}) batch.", nameof(mask));
        mask.Clear();
        for (int b = 0; b < Batch; b++) mask.Slice(b * Time, Lengths[b]).Fill(1f);
    }

    /// <summary>The flat (B·T) row index of each row's last real token.</summary>
    public int[] LastTokenRows()
    {
        var rows = new int[Batch];
        for (int b = 0; b < Batch; b++) rows[b] = b * Time + Lengths[b] - 1;
        return rows;
    }
}
