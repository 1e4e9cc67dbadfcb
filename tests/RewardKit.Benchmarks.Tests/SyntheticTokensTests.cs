using RewardKit.Benchmarks;
using RewardKit.Tensors;

namespace RewardKit.Benchmarks.Tests;

public class SyntheticTokensTests
{
    [Fact]
    public void Rows_are_right_padded_with_lengths_between_half_and_full()
    {
        const int rows = 400, time = 64, vocab = 50;
        var batch = SyntheticTokens.Batch(new Rng(7), rows, time, vocab);
        var seen = new HashSet<int>();
        for (int b = 0; b < rows; b++)
        {
            int length = batch.Lengths[b];
            Assert.InRange(length, time / 2, time);
            seen.Add(length);
            for (int t = 0; t < time; t++)
            {
                int id = batch.Ids[b * time + t];
                if (t < length) Assert.InRange(id, 1, vocab - 1);
                else Assert.Equal(0, id);
            }
        }
        Assert.Contains(time / 2, seen);   // both ends of [T/2, T] are drawn
        Assert.Contains(time, seen);
    }

    [Fact]
    public void The_same_seed_gives_the_same_batch()
    {
        var a = SyntheticTokens.Batch(new Rng(3), 4, 16, 100);
        var b = SyntheticTokens.Batch(new Rng(3), 4, 16, 100);
        Assert.Equal(a.Ids, b.Ids);
        Assert.Equal(a.Lengths, b.Lengths);
    }
}
