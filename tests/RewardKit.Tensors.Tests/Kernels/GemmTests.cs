using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Kernels;

public class GemmTests
{
    static readonly int[] Sizes = [1, 3, 7, 17, 31, 33, 64, 67, 129];

    /// <summary>Every ISA this machine runs (Auto resolves to one of them).</summary>
    public static TheoryData<GemmIsa, int> IsasAndThreads()
    {
        var data = new TheoryData<GemmIsa, int>();
        foreach (var isa in new[] { GemmIsa.Avx512, GemmIsa.Avx2, GemmIsa.Scalar })
            if (Gemm.IsSupported(isa))
                foreach (int threads in new[] { 1, 2 })
                    data.Add(isa, threads);
        return data;
    }

    /// <summary>(M, N, K) triples in which every odd size appears in every position, plus the corners.</summary>
    static IEnumerable<(int M, int N, int K)> OddShapes()
    {
        for (int i = 0; i < Sizes.Length; i++)
            for (int j = 0; j < 3; j++)
                yield return (Sizes[i], Sizes[(i + 3 * j + 1) % Sizes.Length], Sizes[(2 * i + j + 4) % Sizes.Length]);
        yield return (1, 1, 1);
        yield return (129, 129, 129);
        yield return (64, 64, 64);
    }

    [Theory]
    [MemberData(nameof(IsasAndThreads))]
    public void Fast_kernel_matches_the_reference_on_odd_shapes_for_every_transpose(GemmIsa isa, int threads)
    {
        using var pool = new WorkerPool(threads);
        var random = new Random(1);
        foreach (var (m, n, k) in OddShapes())
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    CheckAgainstReference(random, pool, isa, m, n, k, ta, tb, accumulate: false, alpha: 1f);
    }

    [Theory]
    [MemberData(nameof(IsasAndThreads))]
    public void Accumulate_and_alpha_add_the_scaled_product_to_C(GemmIsa isa, int threads)
    {
        using var pool = new WorkerPool(threads);
        var random = new Random(2);
        foreach (var (m, n, k) in new[] { (17, 33, 7), (67, 31, 129), (3, 129, 64), (33, 1, 17) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    CheckAgainstReference(random, pool, isa, m, n, k, ta, tb, accumulate: true, alpha: 1f);
                    CheckAgainstReference(random, pool, isa, m, n, k, ta, tb, accumulate: true, alpha: -0.375f);
                    CheckAgainstReference(random, pool, isa, m, n, k, ta, tb, accumulate: false, alpha: 0.125f);
                }
    }

    [Theory]
    [MemberData(nameof(IsasAndThreads))]
    public void Shapes_larger_than_one_cache_block_cross_every_block_boundary(GemmIsa isa, int threads)
    {
        using var pool = new WorkerPool(threads);
        var random = new Random(3);
        // K > KC (384) twice over, N > NC (512), M > MC (1152): every loop of the nest runs more than once.
        CheckAgainstReference(random, pool, isa, 37, 45, 2 * Gemm.DepthBlock + 5, false, true, accumulate: true, alpha: 1f);
        CheckAgainstReference(random, pool, isa, 9, Gemm.ColumnBlock + 70, 20, true, false, accumulate: false, alpha: 1f);
        CheckAgainstReference(random, pool, isa, Gemm.RowBlock + 13, 5, 11, false, false, accumulate: false, alpha: 1f);
    }

    [Fact]
    public void K_of_zero_gives_zeros_or_leaves_C_when_accumulating()
    {
        var c = new[] { 1f, 2f, 3f, 4f, 5f, 6f };
        Gemm.Multiply([], [], c, 2, 3, 0, accumulate: true);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, c);
        Gemm.Multiply([], [], c, 2, 3, 0);
        Assert.All(c, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void Results_are_bitwise_identical_run_to_run_across_thread_counts_and_isas()
    {
        var random = new Random(4);
        int m = 203, n = 157, k = 2 * Gemm.DepthBlock + 41;
        var a = RandomMatrix(random, m * k);
        var b = RandomMatrix(random, k * n);
        float[]? first = null;
        foreach (var isa in new[] { GemmIsa.Avx512, GemmIsa.Avx2, GemmIsa.Scalar })
        {
            if (!Gemm.IsSupported(isa)) continue;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var pool = new WorkerPool(threads);
                for (int run = 0; run < 2; run++)
                {
                    var c = new float[m * n];
                    Gemm.Multiply(a, b, c, m, n, k, false, true, false, 1f, pool, isa);
                    first ??= c;
                    Assert.True(first.AsSpan().SequenceEqual(c), $"{isa}, {threads} threads, run {run} differs from the first result");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Batched_product_equals_one_product_per_item_and_broadcasts_a_zero_stride(int threads)
    {
        using var pool = new WorkerPool(threads);
        var random = new Random(5);
        int batch = 5, m = 17, n = 31, k = 33;
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var a = RandomMatrix(random, batch * m * k);
                var b = RandomMatrix(random, k * n);       // one B shared by the whole batch
                var c = RandomMatrix(random, batch * m * n);
                var expected = (float[])c.Clone();
                for (int i = 0; i < batch; i++)
                    Gemm.Multiply(a.AsSpan(i * m * k, m * k), b, expected.AsSpan(i * m * n, m * n), m, n, k, ta, tb, true, 0.5f, pool);
                Gemm.MultiplyBatched(a, b, c, batch, m, n, k, m * k, 0, m * n, ta, tb, accumulate: true, alpha: 0.5f, pool: pool);
                Assert.True(expected.AsSpan().SequenceEqual(c), $"transposeA={ta}, transposeB={tb}");
            }
    }

    [Fact]
    public void Batched_product_with_fewer_items_than_threads_matches_the_reference()
    {
        using var pool = new WorkerPool(3);
        var random = new Random(6);
        int batch = 2, m = 67, n = 129, k = 31;
        var a = RandomMatrix(random, batch * k * m);
        var b = RandomMatrix(random, batch * n * k);
        var c = new float[batch * m * n];
        Gemm.MultiplyBatched(a, b, c, batch, m, n, k, k * m, n * k, m * n, transposeA: true, transposeB: true, pool: pool);
        for (int i = 0; i < batch; i++)
        {
            var expected = new float[m * n];
            Gemm.Reference(a.AsSpan(i * k * m, k * m), b.AsSpan(i * n * k, n * k), expected, m, n, k, true, true);
            AssertClose(expected, c.AsSpan(i * m * n, m * n).ToArray(), Bound(a.AsSpan(i * k * m, k * m), b.AsSpan(i * n * k, n * k), m, n, k, true, true), "batch item " + i);
        }
    }

    [Fact]
    public void NaN_in_A_reaches_exactly_its_row_of_C()
    {
        int m = 13, n = 40, k = 9;
        var a = Enumerable.Repeat(1f, m * k).ToArray();
        var b = Enumerable.Repeat(1f, k * n).ToArray();
        a[5 * k + 2] = float.NaN;
        var c = new float[m * n];
        Gemm.Multiply(a, b, c, m, n, k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(i == 5, float.IsNaN(c[i * n + j]));
    }

    [Fact]
    public void Too_short_buffers_and_bad_dimensions_throw_naming_the_operand()
    {
        var a = new float[6]; var b = new float[6]; var c = new float[4];
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b, c, 2, 3, 3));
        Assert.Contains("B has 6 elements but M=2, N=3, K=3 needs 9", e.Message);
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, new float[5], new float[4], 2, 2, 3));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b, c, -1, 2, 3));
        var shared = new float[16];
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(shared.AsSpan(0, 4), shared.AsSpan(4, 4), shared.AsSpan(6, 4), 2, 2, 2));
        Assert.Throws<ArgumentException>(() => Gemm.MultiplyBatched(a, b, c, 2, 2, 2, 1, 2, 2, 3));
    }

    static void CheckAgainstReference(Random random, WorkerPool pool, GemmIsa isa, int m, int n, int k, bool ta, bool tb, bool accumulate, float alpha)
    {
        var a = RandomMatrix(random, m * k);
        var b = RandomMatrix(random, k * n);
        var c = RandomMatrix(random, m * n);
        var expected = (float[])c.Clone();
        Gemm.Reference(a, b, expected, m, n, k, ta, tb, accumulate, alpha);
        Gemm.Multiply(a, b, c, m, n, k, ta, tb, accumulate, alpha, pool, isa);
        var bound = Bound(a, b, m, n, k, ta, tb);
        for (int i = 0; i < bound.Length; i++) bound[i] = bound[i] * Math.Abs(alpha) + (accumulate ? 1e-6f : 0f);
        AssertClose(expected, c, bound, $"{isa} M={m} N={n} K={k} transposeA={ta} transposeB={tb} accumulate={accumulate} alpha={alpha}");
    }

    /// <summary>Forward error bound of a float32 dot product of length K: K·2^-23·Σ|a||b| (plus a little).</summary>
    static float[] Bound(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int m, int n, int k, bool ta, bool tb)
    {
        var absA = new float[a.Length]; var absB = new float[b.Length];
        for (int i = 0; i < a.Length; i++) absA[i] = Math.Abs(a[i]);
        for (int i = 0; i < b.Length; i++) absB[i] = Math.Abs(b[i]);
        var bound = new float[m * n];
        Gemm.Reference(absA, absB, bound, m, n, k, ta, tb);
        for (int i = 0; i < bound.Length; i++) bound[i] = bound[i] * (k + 2) * MathF.Pow(2, -23) + 1e-30f;
        return bound;
    }

    static void AssertClose(float[] expected, float[] actual, float[] bound, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= bound[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]}, reference {expected[i]} (allowed error {bound[i]})");
    }

    static float[] RandomMatrix(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void The_pool_counts_two_m_n_k_flops_per_product_and_per_batch_item(int threads)
    {
        using var pool = new WorkerPool(threads);
        var a = new float[3 * 70 * 50];
        var b = new float[3 * 50 * 90];
        var c = new float[3 * 70 * 90];
        long before = pool.GemmFlops;
        Gemm.Multiply(a, b, c, 70, 90, 50, transposeA: true, pool: pool);
        Assert.Equal(2L * 70 * 90 * 50, pool.GemmFlops - before);
        Gemm.MultiplyBatched(a, b, c, 3, 70, 90, 50, 70 * 50, 50 * 90, 70 * 90, pool: pool);
        Assert.Equal(4 * 2L * 70 * 90 * 50, pool.GemmFlops - before);
        Gemm.Multiply(a, b, c, 7, 9, 0, pool: pool);   // K = 0: no multiply-add
        Assert.Equal(4 * 2L * 70 * 90 * 50, pool.GemmFlops - before);
    }
}
