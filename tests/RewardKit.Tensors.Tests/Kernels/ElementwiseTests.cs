using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Kernels;

public sealed class ElementwiseTests : IDisposable
{
    readonly WorkerPool _two = new(2);
    readonly WorkerPool _three = new(3);

    public void Dispose()
    {
        _two.Dispose();
        _three.Dispose();
    }

    // Odd shapes below the parallel threshold (run on the caller) and above it (split across the pool).
    static readonly (int Rows, int Columns)[] TestShapes =
    [
        .. from r in new[] { 1, 3, 7, 17, 31, 33, 64, 67, 129 } from c in new[] { 1, 3, 7, 17, 33, 67 } select (r, c),
        (129, T / 129 + 3), (17, T / 17 + 1), (1, T + 5), (T + 3, 1), (3, T / 3 + 7),
    ];

    const int T = Elementwise.ParallelThreshold;

    IEnumerable<WorkerPool> Pools() => [WorkerPool.Single, _two, _three];

    static float[] Random(ulong seed, int n, float std = 1f) => Tensor.Normal(new Rng(seed), 0, std, n).ToArray();

    [Fact]
    public void The_parallel_threshold_is_crossed_by_the_large_test_shapes()
    {
        Assert.Equal(1, Elementwise.ThreadsFor(_two, T - 1, 1000));
        Assert.Equal(2, Elementwise.ThreadsFor(_two, 129L * (T / 129 + 3), 129));
        Assert.Equal(3, Elementwise.ThreadsFor(_three, 3L * (T / 3 + 7), 3));
        Assert.Equal(1, Elementwise.ThreadsFor(_two, T + 3, 1)); // one column: nothing to split
    }

    [Fact]
    public void Add_matches_TensorPrimitives_on_every_pool_and_accumulates_in_place()
    {
        foreach (var (rows, columns) in TestShapes)
        {
            int n = rows * columns;
            var a = Random(1, n);
            var b = Random(2, n);
            var expected = new float[n];
            for (int i = 0; i < n; i++) expected[i] = a[i] + b[i];
            foreach (var pool in Pools())
            {
                var y = new float[n];
                Elementwise.Add(a, b, y, pool);
                Assert.Equal(expected, y);
                var acc = (float[])a.Clone();
                Elementwise.Add(acc, b, acc, pool);
                Assert.Equal(expected, acc);
            }
        }
    }

    [Fact]
    public void AddRows_and_SumRows_match_their_references_on_every_pool()
    {
        foreach (var (rows, columns) in TestShapes)
        {
            int n = rows * columns;
            var y0 = Random(3, n);
            var bias = Random(4, columns);
            var expectedY = (float[])y0.Clone();
            Elementwise.AddRowsReference(expectedY, bias, rows, columns);
            var expectedDb = (float[])bias.Clone();
            Elementwise.SumRowsReference(y0, expectedDb, rows, columns);
            // The reference is checked against the definition, in double.
            for (int c = 0; c < columns; c++)
            {
                double s = bias[c];
                for (int r = 0; r < rows; r++) s += y0[r * columns + c];
                Assert.Equal(s, expectedDb[c], 1e-4 * Math.Max(1, Math.Abs(s)));
                Assert.Equal(y0[c] + bias[c], expectedY[c]);
            }
            foreach (var pool in Pools())
            {
                var y = (float[])y0.Clone();
                Elementwise.AddRows(y, bias, rows, columns, pool);
                Assert.Equal(expectedY, y);
                var db = (float[])bias.Clone();
                Elementwise.SumRows(y0, db, rows, columns, pool);
                Assert.Equal(expectedDb, db); // summed over rows in order by one thread: bit for bit
            }
        }
    }

    [Theory]
    [MemberData(nameof(ActivationsTests.Widths), MemberType = typeof(ActivationsTests))]
    public void Gelu_forward_and_backward_match_the_reference_on_every_pool(Activations.Width width)
    {
        foreach (var (rows, columns) in TestShapes)
        {
            int n = rows * columns;
            var x = Random(5, n, 3);
            var dy = Random(6, n);
            var y0 = new float[n];
            var dx0 = Enumerable.Repeat(0.5f, n).ToArray();
            Activations.GeluForwardReference(x, y0);
            Activations.GeluBackwardReference(x, dy, dx0);
            float[]? firstY = null, firstDx = null;
            foreach (var pool in Pools())
            {
                var y = new float[n];
                var dx = Enumerable.Repeat(0.5f, n).ToArray();
                Elementwise.GeluForward(x, y, pool, width);
                Elementwise.GeluBackward(x, dy, dx, pool, width);
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(y0[i], y[i], 2e-6f + 2e-6f * Math.Abs(y0[i]));
                    Assert.Equal(dx0[i], dx[i], 1e-5f + 1e-5f * Math.Abs(dx0[i]));
                }
                if (firstY is null) { firstY = y; firstDx = dx; }
                else { Assert.Equal(firstY, y); Assert.Equal(firstDx, dx); }
            }
        }
    }

    [Theory]
    [MemberData(nameof(ActivationsTests.Widths), MemberType = typeof(ActivationsTests))]
    public void Bias_gelu_forward_and_backward_match_the_reference_on_every_pool(Activations.Width width)
    {
        foreach (var (rows, columns) in TestShapes)
        {
            int n = rows * columns;
            var pre0 = Random(7, n, 2);
            var bias = Random(8, columns);
            var dy = Random(9, n);
            var db0 = Random(10, columns);

            // The reference, row by row in double.
            var preRef = (float[])pre0.Clone();
            var yRef = new float[n];
            var dpreRef = new float[n];
            var dbRef = (float[])db0.Clone();
            for (int r = 0; r < rows; r++)
            {
                var s = new Range(r * columns, (r + 1) * columns);
                Activations.BiasGeluForwardReference(preRef.AsSpan(s), bias, yRef.AsSpan(s));
                Activations.BiasGeluBackwardReference(preRef.AsSpan(s), dy.AsSpan(s), dpreRef.AsSpan(s), dbRef);
            }

            float[]? firstY = null, firstDpre = null, firstDb = null;
            foreach (var pool in Pools())
            {
                var pre = (float[])pre0.Clone();
                var y = new float[n];
                Elementwise.BiasGeluForward(pre, bias, y, rows, columns, pool, width);
                Assert.Equal(preRef, pre); // pre + bias is one float add either way
                var dpre = Enumerable.Repeat(float.NaN, n).ToArray(); // written, never read
                var db = (float[])db0.Clone();
                Elementwise.BiasGeluBackward(pre, dy, dpre, db, rows, columns, pool, width);
                var dpreNoBias = Enumerable.Repeat(float.NaN, n).ToArray();
                Elementwise.BiasGeluBackward(pre, dy, dpreNoBias, Span<float>.Empty, rows, columns, pool, width);
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(yRef[i], y[i], 2e-6f + 2e-6f * Math.Abs(yRef[i]));
                    Assert.Equal(dpreRef[i], dpre[i], 1e-5f + 1e-5f * Math.Abs(dpreRef[i]));
                }
                Assert.Equal(dpre, dpreNoBias);
                for (int c = 0; c < columns; c++) Assert.Equal(dbRef[c], db[c], 1e-4f * Math.Max(1f, Math.Abs(dbRef[c])));
                if (firstY is null) { firstY = y; firstDpre = dpre; firstDb = db; }
                else { Assert.Equal(firstY, y); Assert.Equal(firstDpre, dpre); Assert.Equal(firstDb, db); }
            }
        }
    }

    [Fact]
    public void Kernels_reject_mismatched_lengths_naming_the_kernel()
    {
        var ex = Assert.Throws<ArgumentException>(() => Elementwise.Add(new float[3], new float[3], new float[2], _two));
        Assert.Contains("Elementwise.Add", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Elementwise.AddRows(new float[6], new float[4], 2, 3, _two));
        Assert.Contains("AddRows", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Elementwise.SumRows(new float[6], new float[3], 3, 3, _two));
        Assert.Contains("SumRows", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Elementwise.BiasGeluBackward(new float[6], new float[6], new float[6], new float[2], 2, 3, _two, Activations.Best));
        Assert.Contains("BiasGeluBackward", ex.Message);
        Assert.Throws<ArgumentException>(() => Activations.BiasGeluForward(new float[3], new float[3], new float[4], Activations.Best));
    }
}
