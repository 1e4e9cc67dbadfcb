using System.Numerics.Tensors;

namespace RewardKit.Tensors.Kernels;

/// <summary>
/// Element-wise kernels split across a <see cref="WorkerPool"/>: flat adds (residuals and their gradients), bias rows,
/// bias-gradient column sums, GELU and the fused bias + GELU. Each has a one-thread form it reduces to (the <c>Reference</c>
/// methods, plain loops over <c>TensorPrimitives</c> / <see cref="Activations"/> row kernels) and tests compare them.
/// </summary>
/// <remarks>
/// Work below <see cref="ParallelThreshold"/> elements runs on the caller (a dispatch costs about a microsecond, which is
/// more than a small add). Flat work is split into contiguous ranges aligned to 16 floats; column sums are split by
/// columns, so every output element is summed over the rows in row order by one thread and the result does not depend on
/// the thread count at all. Element-wise results never depend on it either.
/// </remarks>
public static unsafe class Elementwise
{
    /// <summary>
    /// Tensors with fewer elements than this (2²⁰, 4 MB) are processed on the calling thread. On the shared 2-core machines a
    /// dispatch often waits for a worker the OS has descheduled, which costs more than a pass over a smaller tensor: with
    /// 2¹⁴ the tiny preset trained at 0.80× the unthreaded speed (interleaved medians, load ~17); with 2²⁰ only the
    /// MLP's (B·T, 4C) passes of the small preset and larger are split.
    /// </summary>
    public const int ParallelThreshold = 1 << 20;

    const int Chunk = 16; // floats: one cache line, one Vector512

    /// <summary>How many threads of <paramref name="pool"/> an element-wise pass over <paramref name="elements"/> floats in <paramref name="units"/> splittable units uses.</summary>
    public static int ThreadsFor(WorkerPool pool, long elements, long units)
    {
        ArgumentNullException.ThrowIfNull(pool);
        if (elements < ParallelThreshold) return 1;
        return (int)Math.Max(1, Math.Min(pool.Threads, units));
    }

    // ---- y = a + b ---------------------------------------------------------------------------------------------

    /// <summary>y = a + b over equal lengths (y may alias a or b: <c>Add(g, dy, g, pool)</c> accumulates a gradient).</summary>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, WorkerPool pool)
    {
        if (b.Length != a.Length || y.Length != a.Length)
            throw new ArgumentException($"Elementwise.Add: a, b and y must have one length, got {a.Length}, {b.Length} and {y.Length}.");
        int threads = ThreadsFor(pool, a.Length, (a.Length + Chunk - 1) / Chunk);
        if (threads == 1) { TensorPrimitives.Add(a, b, y); return; }
        fixed (float* pa = a, pb = b, py = y)
        {
            var work = new AddWork { A = pa, B = pb, Y = py, N = a.Length };
            pool.Run(ref work, threads);
        }
    }

    struct AddWork : IThreadWork
    {
        public float* A, B, Y;
        public int N;

        public readonly void Execute(int thread, int threads, int slot)
        {
            var (start, end) = FlatRange(N, thread, threads);
            int n = end - start;
            TensorPrimitives.Add(new ReadOnlySpan<float>(A + start, n), new ReadOnlySpan<float>(B + start, n), new Span<float>(Y + start, n));
        }
    }

    // ---- bias rows and their gradient --------------------------------------------------------------------------

    /// <summary>y[r, :] += bias for each of <paramref name="rows"/> rows of <paramref name="columns"/>.</summary>
    public static void AddRows(Span<float> y, ReadOnlySpan<float> bias, int rows, int columns, WorkerPool pool)
    {
        CheckRows("AddRows", y.Length, bias.Length, rows, columns);
        int threads = ThreadsFor(pool, (long)rows * columns, rows);
        if (threads == 1) { AddRowsReference(y, bias, rows, columns); return; }
        fixed (float* py = y, pb = bias)
        {
            var work = new AddRowsWork { Y = py, Bias = pb, Rows = rows, Columns = columns };
            pool.Run(ref work, threads);
        }
    }

    /// <summary>The one-thread form of <see cref="AddRows"/>.</summary>
    public static void AddRowsReference(Span<float> y, ReadOnlySpan<float> bias, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = y.Slice(r * columns, columns);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    struct AddRowsWork : IThreadWork
    {
        public float* Y, Bias;
        public int Rows, Columns;

        public readonly void Execute(int thread, int threads, int slot)
        {
            var (start, end) = RowRange(Rows, thread, threads);
            var b = new ReadOnlySpan<float>(Bias, Columns);
            for (int r = start; r < end; r++)
            {
                var row = new Span<float>(Y + (long)r * Columns, Columns);
                TensorPrimitives.Add(row, b, row);
            }
        }
    }

    /// <summary>db += Σ_r dy[r, :], each column summed over the rows in order (the same result for every thread count).</summary>
    public static void SumRows(ReadOnlySpan<float> dy, Span<float> db, int rows, int columns, WorkerPool pool)
    {
        CheckRows("SumRows", dy.Length, db.Length, rows, columns);
        int threads = ThreadsFor(pool, (long)rows * columns, (columns + Chunk - 1) / Chunk);
        if (threads == 1) { SumRowsReference(dy, db, rows, columns); return; }
        fixed (float* pdy = dy, pdb = db)
        {
            var work = new SumRowsWork { Dy = pdy, Db = pdb, Rows = rows, Columns = columns };
            pool.Run(ref work, threads);
        }
    }

    /// <summary>The one-thread form of <see cref="SumRows"/>.</summary>
    public static void SumRowsReference(ReadOnlySpan<float> dy, Span<float> db, int rows, int columns)
    {
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(db, dy.Slice(r * columns, columns), db);
    }

    struct SumRowsWork : IThreadWork
    {
        public float* Dy, Db;
        public int Rows, Columns;

        public readonly void Execute(int thread, int threads, int slot)
        {
            var (c0, c1) = ColumnRange(Columns, thread, threads);
            int n = c1 - c0;
            if (n == 0) return;
            var db = new Span<float>(Db + c0, n);
            for (int r = 0; r < Rows; r++) TensorPrimitives.Add(db, new ReadOnlySpan<float>(Dy + (long)r * Columns + c0, n), db);
        }
    }

    // ---- GELU and bias + GELU ----------------------------------------------------------------------------------

    /// <summary>y = gelu_new(x) (see <see cref="Activations.GeluForward(ReadOnlySpan{float}, Span{float})"/>), split across the pool.</summary>
    public static void GeluForward(ReadOnlySpan<float> x, Span<float> y, WorkerPool pool, Activations.Width width)
    {
        if (y.Length != x.Length) throw new ArgumentException($"Elementwise.GeluForward: x has {x.Length} elements but y has {y.Length}.");
        int threads = ThreadsFor(pool, x.Length, (x.Length + Chunk - 1) / Chunk);
        if (threads == 1) { Activations.GeluForward(x, y, width); return; }
        fixed (float* px = x, py = y)
        {
            var work = new GeluWork { X = px, Y = py, N = x.Length, Width = width };
            pool.Run(ref work, threads);
        }
    }

    /// <summary>dx += dy · gelu_new′(x), split across the pool.</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, WorkerPool pool, Activations.Width width)
    {
        if (dy.Length != x.Length || dx.Length != x.Length)
            throw new ArgumentException($"Elementwise.GeluBackward: x, dy and dx must have one length, got {x.Length}, {dy.Length} and {dx.Length}.");
        int threads = ThreadsFor(pool, x.Length, (x.Length + Chunk - 1) / Chunk);
        if (threads == 1) { Activations.GeluBackward(x, dy, dx, width); return; }
        fixed (float* px = x, pdy = dy, pdx = dx)
        {
            var work = new GeluWork { X = px, Dy = pdy, Y = pdx, N = x.Length, Width = width, Backward = true };
            pool.Run(ref work, threads);
        }
    }

    /// <summary>y = gelu(x), the exact (erf) GELU of <see cref="GeluErf"/>, split across the pool.</summary>
    public static void GeluErfForward(ReadOnlySpan<float> x, Span<float> y, WorkerPool pool, Activations.Width width)
    {
        if (y.Length != x.Length) throw new ArgumentException($"Elementwise.GeluErfForward: x has {x.Length} elements but y has {y.Length}.");
        int threads = ThreadsFor(pool, x.Length, (x.Length + Chunk - 1) / Chunk);
        if (threads == 1) { GeluErf.Forward(x, y, width); return; }
        fixed (float* px = x, py = y)
        {
            var work = new GeluWork { X = px, Y = py, N = x.Length, Width = width, Exact = true };
            pool.Run(ref work, threads);
        }
    }

    /// <summary>dx += dy · gelu′(x) for the exact (erf) GELU, split across the pool.</summary>
    public static void GeluErfBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, WorkerPool pool, Activations.Width width)
    {
        if (dy.Length != x.Length || dx.Length != x.Length)
            throw new ArgumentException($"Elementwise.GeluErfBackward: x, dy and dx must have one length, got {x.Length}, {dy.Length} and {dx.Length}.");
        int threads = ThreadsFor(pool, x.Length, (x.Length + Chunk - 1) / Chunk);
        if (threads == 1) { GeluErf.Backward(x, dy, dx, width); return; }
        fixed (float* px = x, pdy = dy, pdx = dx)
        {
            var work = new GeluWork { X = px, Dy = pdy, Y = pdx, N = x.Length, Width = width, Backward = true, Exact = true };
            pool.Run(ref work, threads);
        }
    }

    struct GeluWork : IThreadWork
    {
        public float* X, Dy, Y;
        public int N;
        public Activations.Width Width;
        public bool Backward, Exact;

        public readonly void Execute(int thread, int threads, int slot)
        {
            var (start, end) = FlatRange(N, thread, threads);
            int n = end - start;
            var x = new ReadOnlySpan<float>(X + start, n);
            var y = new Span<float>(Y + start, n);
            if (Exact && Backward) GeluErf.Backward(x, new ReadOnlySpan<float>(Dy + start, n), y, Width);
            else if (Exact) GeluErf.Forward(x, y, Width);
            else if (Backward) Activations.GeluBackward(x, new ReadOnlySpan<float>(Dy + start, n), y, Width);
            else Activations.GeluForward(x, y, Width);
        }
    }

    /// <summary>
    /// Bias + GELU over (rows, columns): pre[r, :] += bias (kept for the backward), y = gelu_new(pre), one pass
    /// (<see cref="Activations.BiasGeluForward"/> per row), split across the pool by rows.
    /// </summary>
    public static void BiasGeluForward(Span<float> pre, ReadOnlySpan<float> bias, Span<float> y, int rows, int columns,
        WorkerPool pool, Activations.Width width)
    {
        CheckRows("BiasGeluForward", pre.Length, bias.Length, rows, columns);
        if (y.Length != pre.Length) throw new ArgumentException($"Elementwise.BiasGeluForward: pre has {pre.Length} elements but y has {y.Length}.");
        int threads = ThreadsFor(pool, (long)rows * columns, rows);
        fixed (float* pp = pre, pb = bias, py = y)
        {
            var work = new BiasGeluForwardWork { Pre = pp, Bias = pb, Y = py, Rows = rows, Columns = columns, Width = width };
            if (threads == 1) work.Execute(0, 1, 0);
            else pool.Run(ref work, threads);
        }
    }

    struct BiasGeluForwardWork : IThreadWork
    {
        public float* Pre, Bias, Y;
        public int Rows, Columns;
        public Activations.Width Width;

        public readonly void Execute(int thread, int threads, int slot)
        {
            var (start, end) = RowRange(Rows, thread, threads);
            var b = new ReadOnlySpan<float>(Bias, Columns);
            for (int r = start; r < end; r++)
                Activations.BiasGeluForward(new Span<float>(Pre + (long)r * Columns, Columns), b, new Span<float>(Y + (long)r * Columns, Columns), Width);
        }
    }

    /// <summary>
    /// The backward of <see cref="BiasGeluForward"/>: dpre = dy · gelu_new′(pre) (written) and dbias += Σ_r dpre[r, :], one
    /// pass, split across the pool by columns so each dbias element is summed over the rows in order by one thread.
    /// <paramref name="dbias"/> may be empty (the bias takes no gradient).
    /// </summary>
    public static void BiasGeluBackward(ReadOnlySpan<float> pre, ReadOnlySpan<float> dy, Span<float> dpre, Span<float> dbias,
        int rows, int columns, WorkerPool pool, Activations.Width width)
    {
        if (pre.Length != (long)rows * columns || dy.Length != pre.Length || dpre.Length != pre.Length || (dbias.Length != 0 && dbias.Length != columns))
            throw new ArgumentException($"Elementwise.BiasGeluBackward: pre, dy, dpre must have {rows}·{columns} elements and dbias {columns} (or 0); got {pre.Length}, {dy.Length}, {dpre.Length}, {dbias.Length}.");
        int threads = ThreadsFor(pool, (long)rows * columns, (columns + Chunk - 1) / Chunk);
        fixed (float* pp = pre, pdy = dy, pd = dpre, pdb = dbias)
        {
            var work = new BiasGeluBackwardWork { Pre = pp, Dy = pdy, Dpre = pd, Dbias = dbias.Length == 0 ? null : pdb, Rows = rows, Columns = columns, Width = width };
            if (threads == 1) work.Execute(0, 1, 0);
            else pool.Run(ref work, threads);
        }
    }

    struct BiasGeluBackwardWork : IThreadWork
    {
        public float* Pre, Dy, Dpre, Dbias;
        public int Rows, Columns;
        public Activations.Width Width;

        public readonly void Execute(int thread, int threads, int slot)
        {
            var (c0, c1) = ColumnRange(Columns, thread, threads);
            int n = c1 - c0;
            if (n == 0) return;
            for (int r = 0; r < Rows; r++)
            {
                long o = (long)r * Columns + c0;
                var pre = new ReadOnlySpan<float>(Pre + o, n);
                var dy = new ReadOnlySpan<float>(Dy + o, n);
                var dpre = new Span<float>(Dpre + o, n);
                if (Dbias != null) Activations.BiasGeluBackward(pre, dy, dpre, new Span<float>(Dbias + c0, n), Width);
                else
                {
                    dpre.Clear();
                    Activations.GeluBackward(pre, dy, dpre, Width);
                }
            }
        }
    }

    // ---- splitting -------------------------------------------------------------------------------------------

    /// <summary>Participant <paramref name="thread"/>'s share of <paramref name="n"/> floats, in whole 16-float chunks (the last share takes the tail).</summary>
    static (int Start, int End) FlatRange(int n, int thread, int threads)
    {
        long chunks = (n + Chunk - 1) / Chunk;
        int start = (int)Math.Min(n, chunks * thread / threads * Chunk);
        int end = (int)Math.Min(n, chunks * (thread + 1) / threads * Chunk);
        return (start, end);
    }

    static (int Start, int End) RowRange(int rows, int thread, int threads) =>
        ((int)((long)thread * rows / threads), (int)((long)(thread + 1) * rows / threads));

    static (int Start, int End) ColumnRange(int columns, int thread, int threads) => FlatRange(columns, thread, threads);

    static void CheckRows(string op, int length, int biasLength, int rows, int columns)
    {
        if (rows < 0 || columns < 0 || length != (long)rows * columns || biasLength != columns)
            throw new ArgumentException($"Elementwise.{op}: expected {rows}·{columns} elements and a row of {columns}, got {length} and {biasLength}.");
    }
}
