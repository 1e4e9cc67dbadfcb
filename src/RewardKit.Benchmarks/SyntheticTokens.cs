using RewardKit.Models;
using RewardKit.Tensors;

namespace RewardKit.Benchmarks;

/// <summary>
/// Random token batches distributed as the PyTorch reference's <c>make_batch</c>: each row's real length uniform in
/// [T/2, T], real tokens uniform in [1, V), right-padded with id 0. (The values differ from torch's generator; the
/// distribution and so the work are the same.)
/// </summary>
public static class SyntheticTokens
{
    /// <summary>A (<paramref name="rows"/>, <paramref name="time"/>) batch drawn from <paramref name="rng"/>.</summary>
    public static TokenBatch Batch(Rng rng, int rows, int time, int vocab)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "at least one row.");
        if (time < 2) throw new ArgumentOutOfRangeException(nameof(time), time, "at least 2 positions.");
        if (vocab < 2) throw new ArgumentOutOfRangeException(nameof(vocab), vocab, "at least 2 ids (0 is the pad).");
        var lengths = new int[rows];
        for (int b = 0; b < rows; b++) lengths[b] = rng.NextInt(time / 2, time + 1);
        var ids = new int[rows * time];
        for (int b = 0; b < rows; b++)
            for (int t = 0; t < time; t++)
                ids[b * time + t] = t < lengths[b] ? rng.NextInt(1, vocab) : 0;
        return new TokenBatch(ids, rows, time, lengths).Validate();
    }
}
