using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Kernels;

public class AttentionKernelTests
{
    static readonly int[] Times = [1, 3, 7, 17, 33, 67, 129];

    /// <summary>Every GEMM ISA this machine runs, on 1 and 2 threads, causal (GPT-2) and bidirectional (BERT).</summary>
    public static TheoryData<GemmIsa, int, bool> IsasAndThreads()
    {
        var data = new TheoryData<GemmIsa, int, bool>();
        foreach (var isa in new[] { GemmIsa.Avx512, GemmIsa.Avx2, GemmIsa.Scalar })
            if (Gemm.IsSupported(isa))
                foreach (int threads in new[] { 1, 2 })
                    foreach (bool causal in new[] { true, false })
                        data.Add(isa, threads, causal);
        return data;
    }

    static float[] Random(Random random, int length, float scale = 1f)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return x;
    }

    /// <summary>
    /// Six rows of key masks over T: all real; right-padded; left-padded; only the first key real; only the last key
    /// real; holes inside (and for T = 1 a row with no real key at all).
    /// </summary>
    static float[] Masks(Random random, int time, int batch)
    {
        var mask = new float[batch * time];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < time; t++)
            {
                int length = Math.Max(1, time / 2 + 1);
                mask[b * time + t] = (b % 6) switch
                {
                    0 => 1,
                    1 => t < length ? 1 : 0,
                    2 => t >= time - length ? 1 : 0,
                    3 => t == 0 ? 1 : 0,
                    4 => t == time - 1 ? (time == 1 ? 0 : 1) : 0,
                    _ => random.Next(3) == 0 ? 0 : 1,
                };
            }
        return mask;
    }

    static IEnumerable<(int B, int T, int NH, int Hs)> Shapes()
    {
        int i = 0;
        foreach (int t in Times)
            for (int nh = 1; nh <= 4; nh++, i++)
                yield return (6, t, nh, new[] { 1, 5, 8, 16 }[i % 4]);
    }

    [Theory]
    [MemberData(nameof(IsasAndThreads))]
    public void Fast_forward_and_backward_match_the_naive_reference_on_odd_shapes_and_masks(GemmIsa isa, int threads, bool causal)
    {
        using var pool = new WorkerPool(threads);
        var random = new Random(11);
        foreach (var (B, T, NH, hs) in Shapes())
            foreach (bool masked in new[] { false, true })
            {
                int C = NH * hs;
                var qkv = Random(random, B * T * 3 * C, 2f);
                var mask = masked ? Masks(random, T, B) : [];
                var dout = Random(random, B * T * C);
                var expected = new float[B * T * C];
                AttentionKernel.ReferenceForward(qkv, mask, expected, B, T, C, NH, causal);
                var att = new float[B * NH * T * T];
                var y = new float[B * T * C];
                y.AsSpan().Fill(float.NaN);    // the kernel must overwrite every output
                att.AsSpan().Fill(float.NaN);
                AttentionKernel.Forward(qkv, mask, att, y, B, T, C, NH, pool, isa, causal);
                AssertClose(expected, y, 2e-5f, $"forward T={T} NH={NH} hs={hs} masked={masked} causal={causal}");

                var inference = new float[B * T * C];
                AttentionKernel.Forward(qkv, mask, [], inference, B, T, C, NH, pool, isa, causal);
                Assert.Equal(y, inference);

                CheckProbabilities(att, mask, B, T, NH, causal);

                var dqkvExpected = Random(new Random(T), qkv.Length);  // both add into the same starting values
                var dqkv = (float[])dqkvExpected.Clone();
                AttentionKernel.ReferenceBackward(qkv, mask, dout, dqkvExpected, B, T, C, NH, causal);
                var dqkvStart = (float[])dqkv.Clone();
                AttentionKernel.Backward(qkv, mask, att, dout, dqkv, B, T, C, NH, pool, isa, causal);
                AssertClose(dqkvExpected, dqkv, 1e-4f, $"backward T={T} NH={NH} hs={hs} masked={masked} causal={causal}");

                // Without kept probabilities the backward recomputes them: the same gradient bit for bit.
                AttentionKernel.Backward(qkv, mask, [], dout, dqkvStart, B, T, C, NH, pool, isa, causal);
                Assert.True(dqkv.AsSpan().SequenceEqual(dqkvStart), $"recomputing backward differs, T={T} NH={NH} hs={hs} masked={masked}");
            }
    }

    /// <summary>Row i of each head's probabilities sums to 1 over its visible keys and is exactly zero elsewhere.</summary>
    static void CheckProbabilities(float[] att, float[] mask, int B, int T, int NH, bool causal)
    {
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int i = 0; i < T; i++)
                {
                    double sum = 0;
                    bool any = false;
                    for (int j = 0; j < T; j++)
                    {
                        float p = att[((b * NH + h) * T + i) * T + j];
                        bool visible = (j <= i || !causal) && (mask.Length == 0 || mask[b * T + j] != 0);
                        any |= visible;
                        if (!visible) Assert.Equal(0f, p);
                        sum += p;
                    }
                    Assert.Equal(any ? 1.0 : 0.0, sum, 4);
                }
    }

    static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float error = Math.Abs(expected[i] - actual[i]);
            if (!(error <= tolerance * (1 + Math.Abs(expected[i]))))
                Assert.Fail($"{what}: element {i} is {actual[i]}, the reference {expected[i]} (error {error}).");
        }
    }

    [Fact]
    public void Results_are_identical_on_one_two_and_three_threads_and_run_to_run()
    {
        var random = new Random(5);
        const int B = 7, T = 67, NH = 3, hs = 16, C = NH * hs;
        var qkv = Random(random, B * T * 3 * C, 2f);
        var mask = Masks(random, T, B);
        var dout = Random(random, B * T * C);
        (float[] Y, float[] Att, float[] Dqkv) Run(int threads)
        {
            using var pool = new WorkerPool(threads);
            var y = new float[B * T * C];
            var att = new float[B * NH * T * T];
            var dqkv = new float[qkv.Length];
            AttentionKernel.Forward(qkv, mask, att, y, B, T, C, NH, pool);
            AttentionKernel.Backward(qkv, mask, att, dout, dqkv, B, T, C, NH, pool);
            return (y, att, dqkv);
        }
        var one = Run(1);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var other = Run(threads);
            Assert.Equal(one.Y, other.Y);
            Assert.Equal(one.Att, other.Att);
            Assert.Equal(one.Dqkv, other.Dqkv);
        }
    }

    [Fact]
    public void Padded_keys_do_not_change_the_real_queries_outputs_or_gradients()
    {
        var random = new Random(9);
        const int B = 2, T = 50, NH = 2, hs = 8, C = NH * hs;
        var qkv = Random(random, B * T * 3 * C);
        var mask = new float[B * T];
        for (int t = 0; t < T; t++) { mask[t] = t < 30 ? 1 : 0; mask[T + t] = 1; }
        var dout = Random(random, B * T * C);
        for (int t = 30; t < T; t++) for (int d = 0; d < C; d++) dout[t * C + d] = 0;   // padded queries carry no gradient
        (float[] Y, float[] Dqkv) Run(float[] x)
        {
            var y = new float[B * T * C];
            var att = new float[B * NH * T * T];
            var dqkv = new float[x.Length];
            AttentionKernel.Forward(x, mask, att, y, B, T, C, NH, WorkerPool.Single);
            AttentionKernel.Backward(x, mask, att, dout, dqkv, B, T, C, NH, WorkerPool.Single);
            return (y, dqkv);
        }
        var before = Run(qkv);
        var changed = (float[])qkv.Clone();
        for (int t = 30; t < T; t++) for (int d = 0; d < 3 * C; d++) changed[t * 3 * C + d] += 7f;
        var after = Run(changed);
        Assert.Equal(before.Y.AsSpan(T * C), after.Y.AsSpan(T * C));                  // batch 1 untouched
        Assert.Equal(before.Y.AsSpan(0, 30 * C), after.Y.AsSpan(0, 30 * C));          // batch 0, real queries
        Assert.Equal(before.Dqkv.AsSpan(0, 30 * 3 * C), after.Dqkv.AsSpan(0, 30 * 3 * C));
        for (int i = 30 * 3 * C; i < T * 3 * C; i++) Assert.Equal(0f, after.Dqkv[i]); // padded positions get no gradient
    }

    [Fact]
    public void Bad_buffers_are_rejected_with_the_shape()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            AttentionKernel.Forward(new float[2 * 4 * 18], [], [], new float[2 * 4 * 5], 2, 4, 6, 2, WorkerPool.Single));
        Assert.Contains("B=2, T=4, C=6", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() =>
            AttentionKernel.Backward(new float[2 * 4 * 18], [], new float[10], new float[2 * 4 * 6], new float[2 * 4 * 18], 2, 4, 6, 2, WorkerPool.Single));
        Assert.Contains("B·NH·T·T", ex2.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Counted_flops_are_the_blocks_run_skipping_padded_keys_and_masked_causal_blocks(int threads)
    {
        // T = 100 is three row blocks (48, 48, 4); hs = 8. Row 0 has 70 real keys (right-padded), row 1 has keys [10, 100)
        // (left-padded): each block of rows [i0, i0 + rows) runs on keys [low, min(i0 + rows, high)), from the first query on.
        const int B = 2, T = 100, C = 16, NH = 2, hs = C / NH;
        var random = new Random(3);
        var qkv = Random(random, B * T * 3 * C);
        var mask = new float[B * T];
        for (int t = 0; t < 70; t++) mask[t] = 1f;
        for (int t = 10; t < T; t++) mask[T + t] = 1f;
        using var pool = new WorkerPool(threads);
        static long Blocks(int low, int high) =>
            (long)48 * (Math.Min(48, high) - low) + 48L * (Math.Min(96, high) - low) + 4L * (Math.Min(100, high) - low);
        // Row 1's first block starts at its first real key (query 10): rows [10, 58), [58, 100) in blocks of 48 and 42.
        long rowKeys = Blocks(0, 70) + (48L * (58 - 10) + 42L * (100 - 10));
        long forward = NH * rowKeys * 2 * (2L * hs);                       // S = Q·Kᵀ and O = P·V per (row, key)
        var att = new float[B * NH * T * T];
        var output = new float[B * T * C];
        long before = pool.GemmFlops;
        AttentionKernel.Forward(qkv, mask, att, output, B, T, C, NH, pool);
        Assert.Equal(forward, pool.GemmFlops - before);
        before = pool.GemmFlops;
        AttentionKernel.Backward(qkv, mask, att, Random(random, B * T * C), new float[qkv.Length], B, T, C, NH, pool);
        Assert.Equal(2 * forward, pool.GemmFlops - before);                   // dP, dQ, dK, dV
        before = pool.GemmFlops;
        AttentionKernel.Backward(qkv, mask, [], Random(random, B * T * C), new float[qkv.Length], B, T, C, NH, pool);
        Assert.Equal(2 * forward + forward / 2, pool.GemmFlops - before);    // and Q·Kᵀ again when recomputing
    }
}
