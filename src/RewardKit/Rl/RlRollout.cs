// Shapes: B = prompts × samples rows (prompt-major), R the longest response; per-token arrays (B·R) as in Advantages.cs.
using RewardKit.Models;

namespace RewardKit.Rl;

/// <summary>One rollout: the sampled responses and everything the update reads from them, as constants.</summary>
internal sealed class Rollout
{
    /// <summary>(B, T) prompt + response ids with ResponseStart.</summary>
    public required TokenBatch Batch { get; init; }

    /// <summary>(B) response tokens per row.</summary>
    public required int[] Lengths { get; init; }

    /// <summary>R.</summary>
    public required int Width { get; init; }

    /// <summary>(B·R) log π_old of the sampled tokens (at the rollout temperature).</summary>
    public required float[] OldLogProbs { get; init; }

    /// <summary>(B·R) log π_ref.</summary>
    public required float[] ReferenceLogProbs { get; init; }

    /// <summary>(B·R) per-token entropy under π_old.</summary>
    public required float[] Entropy { get; init; }

    /// <summary>(B·R) the critic's values, or null without a critic.</summary>
    public float[]? Values { get; set; }

    /// <summary>(B) the combined reward models' raw score (the proxy reward).</summary>
    public required float[] Proxy { get; init; }

    /// <summary>(B) the shaped score (scaled, clipped, penalised): TRL's <c>objective/scores</c>.</summary>
    public required float[] Scores { get; init; }

    /// <summary>(B) whether each response ended with EOS.</summary>
    public required bool[] EndedWithEos { get; init; }

    /// <summary>B.</summary>
    public int Rows => Lengths.Length;

    /// <summary>Σ response tokens.</summary>
    public int Tokens => Lengths.Sum();

    /// <summary>
    /// The minibatch of <paramref name="rows"/>: its token batch and a function copying any (B·R) grid into the
    /// minibatch's own (b, r) layout (its own longest response as width).
    /// </summary>
    public (TokenBatch Batch, Func<float[], float[]> Gather, int[] Lengths) Select(int[] rows)
    {
        var lengths = rows.Select(b => Lengths[b]).ToArray();
        int width = lengths.Max();
        float[] Gather(float[] grid)
        {
            var result = new float[rows.Length * width];
            for (int i = 0; i < rows.Length; i++) grid.AsSpan(rows[i] * Width, lengths[i]).CopyTo(result.AsSpan(i * width));
            return result;
        }
        return (RowsOf(Batch, rows), Gather, lengths);
    }

    /// <summary>The <paramref name="rows"/> of <paramref name="batch"/> (prompt + response ids with ResponseStart), re-padded to their own longest.</summary>
    public static TokenBatch RowsOf(TokenBatch batch, int[] rows)
    {
        var sequences = new int[rows.Length][];
        var starts = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            int b = rows[i];
            sequences[i] = batch.Ids.AsSpan(b * batch.Time, batch.Lengths[b]).ToArray();
            starts[i] = batch.ResponseStart![b];
        }
        return TokenBatch.FromSequences(sequences, padId: 0, starts);
    }
}
