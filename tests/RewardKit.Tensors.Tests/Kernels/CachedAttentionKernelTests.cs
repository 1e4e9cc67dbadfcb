using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Kernels;

public class CachedAttentionKernelTests
{
    static float[] Random(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(1, 3, 2, 8)]
    [InlineData(2, 5, 4, 16)]
    [InlineData(3, 67, 2, 5)]
    [InlineData(4, 130, 3, 32)]
    [InlineData(2, 9, 2, 64)]
    [InlineData(3, 11, 1, 40)]
    public void The_fast_kernel_matches_the_double_reference_on_1_and_2_threads(int sequences, int capacity, int heads, int headSize)
    {
        var random = new Random(sequences * 1000 + capacity);
        int c = heads * headSize, slotsInCache = sequences + 2;
        var qkv = Random(random, sequences * 3 * c);
        var keys = Random(random, slotsInCache * c * capacity);
        var values = Random(random, slotsInCache * c * capacity);
        // Slots out of order and not all used; lengths from 1 (the token alone) to full.
        var slots = Enumerable.Range(0, sequences).Select(i => (i * 3 + 1) % slotsInCache).ToArray();
        var lengths = Enumerable.Range(0, sequences).Select(i => i == 0 ? 1 : Math.Max(1, capacity - i * 7 % capacity)).ToArray();
        var expected = new float[sequences * c];
        CachedAttentionKernel.ReferenceForward(qkv, keys, values, slots, lengths, expected, heads, capacity);
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = new WorkerPool(threads);
            var actual = new float[sequences * c];
            CachedAttentionKernel.Forward(qkv, keys, values, slots, lengths, actual, heads, capacity, pool);
            for (int i = 0; i < actual.Length; i++) Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5, $"[{i}] {actual[i]} vs {expected[i]} ({threads} threads)");
        }
    }

    [Fact]
    public void The_last_query_of_causal_attention_equals_decode_attention_over_the_same_keys()
    {
        const int time = 9, heads = 2, hs = 4, c = heads * hs;
        var random = new Random(3);
        var qkv = Random(random, time * 3 * c);                     // one sequence (1, T, 3C)
        var full = new float[time * c];
        AttentionKernel.ReferenceForward(qkv, [], full, 1, time, c, heads);
        // The cache (1 slot, NH, cap = T, hs) holds every position's k and v, head-major.
        var keys = new float[c * time];
        var values = new float[c * time];
        for (int t = 0; t < time; t++)
            for (int h = 0; h < heads; h++)
                for (int d = 0; d < hs; d++)
                {
                    keys[(h * time + t) * hs + d] = qkv[t * 3 * c + c + h * hs + d];
                    values[(h * time + t) * hs + d] = qkv[t * 3 * c + 2 * c + h * hs + d];
                }
        var decoded = new float[c];
        CachedAttentionKernel.Forward(qkv.AsSpan((time - 1) * 3 * c, 3 * c), keys, values, [0], [time], decoded, heads, time, WorkerPool.Single);
        for (int i = 0; i < c; i++) Assert.Equal(full[(time - 1) * c + i], decoded[i], 5);
    }

    [Fact]
    public void Bad_slots_and_lengths_are_refused_with_the_sequence_named()
    {
        var cache = new float[2 * 4 * 3];   // S = 2, C = 4, cap = 3
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            CachedAttentionKernel.Forward(new float[12], cache, cache, [0], [4], new float[4], 2, 3, WorkerPool.Single));
        Assert.Contains("sequence 0 sees 4 keys", e.Message);
        var s = Assert.Throws<ArgumentOutOfRangeException>(() =>
            CachedAttentionKernel.Forward(new float[12], cache, cache, [2], [1], new float[4], 2, 3, WorkerPool.Single));
        Assert.Contains("slot 2", s.Message);
    }
}
