using System.Runtime.Intrinsics.X86;

namespace RewardKit.Tensors.Kernels;

/// <summary>Which micro-kernel family <see cref="Gemm"/> runs.</summary>
public enum GemmIsa
{
    /// <summary>The widest the CPU supports: AVX-512F, else AVX2 + FMA, else scalar.</summary>
    Auto,
    /// <summary>AVX-512F micro-kernel (12 x 32 tile).</summary>
    Avx512,
    /// <summary>AVX2 + FMA micro-kernel (6 x 16 tile).</summary>
    Avx2,
    /// <summary>Portable scalar micro-kernel (4 x 4 tile).</summary>
    Scalar,
}

/// <summary>
/// Single-precision matrix multiply, C (+)= alpha · op(A) · op(B), all row-major.
/// A is (M, K), or (K, M) when <c>transposeA</c>; B is (K, N), or (N, K) when <c>transposeB</c>; C is (M, N).
/// </summary>
/// <remarks>
/// The fast path packs A and B into aligned panels (buffers owned by the <see cref="WorkerPool"/>) and runs a
/// register-blocked micro-kernel over cache blocks (see GemmDriver). Work is split statically over rows or
/// columns of C, never over K, and the K blocking is fixed, so results are identical run to run and for any thread
/// count; the AVX-512, AVX2 and scalar kernels all accumulate with fused multiply-adds in the same order and agree too.
/// </remarks>
public static unsafe class Gemm
{
    /// <summary>Below this many multiply-adds a call runs on one thread: dispatching would cost more than it saves.</summary>
    const long ParallelThreshold = 64 * 64 * 64;

    /// <summary>Depth (K) cache block: each element is summed in blocks of this many products, in order.</summary>
    public const int DepthBlock = GemmDriver.KC;

    /// <summary>Rows of op(A) packed per block.</summary>
    public const int RowBlock = GemmDriver.MC;

    /// <summary>Columns of op(B) packed per block.</summary>
    public const int ColumnBlock = GemmDriver.NC;

    /// <summary>The ISA <see cref="GemmIsa.Auto"/> resolves to on this machine.</summary>
    public static GemmIsa BestIsa { get; } =
        Avx512F.IsSupported ? GemmIsa.Avx512 : Avx2.IsSupported && Fma.IsSupported ? GemmIsa.Avx2 : GemmIsa.Scalar;

    /// <summary>True when this machine can run <paramref name="isa"/>.</summary>
    public static bool IsSupported(GemmIsa isa) => isa switch
    {
        GemmIsa.Auto or GemmIsa.Scalar => true,
        GemmIsa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        GemmIsa.Avx512 => Avx512F.IsSupported,
        _ => false,
    };

    /// <summary>The fast path: C (+)= op(A) · op(B), multithreaded over <paramref name="pool"/> (one thread when null).</summary>
    /// <param name="a">(M, K), or (K, M) when <paramref name="transposeA"/>.</param>
    /// <param name="b">(K, N), or (N, K) when <paramref name="transposeB"/>.</param>
    /// <param name="c">(M, N); read only when <paramref name="accumulate"/>.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The shared (summed) dimension.</param>
    /// <param name="transposeA">A is stored (K, M).</param>
    /// <param name="transposeB">B is stored (N, K) (the nn.Linear weight layout).</param>
    /// <param name="accumulate">Add into C instead of overwriting it.</param>
    /// <param name="pool">Threads and packing buffers; null runs on the caller with temporary buffers.</param>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transposeA = false, bool transposeB = false, bool accumulate = false, WorkerPool? pool = null)
        => Multiply(a, b, c, m, n, k, transposeA, transposeB, accumulate, 1f, pool, GemmIsa.Auto);

    /// <summary>C = alpha · op(A) · op(B) (+ C when <paramref name="accumulate"/>), with a chosen micro-kernel family.</summary>
    /// <param name="a">(M, K), or (K, M) when <paramref name="transposeA"/>.</param>
    /// <param name="b">(K, N), or (N, K) when <paramref name="transposeB"/>.</param>
    /// <param name="c">(M, N); read only when <paramref name="accumulate"/>.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The shared (summed) dimension.</param>
    /// <param name="transposeA">A is stored (K, M).</param>
    /// <param name="transposeB">B is stored (N, K).</param>
    /// <param name="accumulate">Add into C instead of overwriting it.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="pool">Threads and packing buffers; null runs on the caller with temporary buffers.</param>
    /// <param name="isa">Micro-kernel family; narrower ones are for tests and comparisons.</param>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transposeA, bool transposeB, bool accumulate, float alpha, WorkerPool? pool, GemmIsa isa = GemmIsa.Auto)
    {
        Check(a.Length, b.Length, c.Length, 1, m, n, k, (long)m * k, (long)k * n, (long)m * n, isa);
        CheckNoOverlap(a, b, c);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a, pb = b, pc = c)
        {
            var problem = Problem(pa, pb, pc, m, n, k, transposeA, transposeB, accumulate, alpha);
            if (pool is not null) Run(pool, problem, 1, 0, 0, 0, Resolve(isa));
            else
            {
                using var temporary = new WorkerPool(1);
                Run(temporary, problem, 1, 0, 0, 0, Resolve(isa));
            }
        }
    }

    /// <summary>
    /// A batch of independent products, C[i] (+)= alpha · op(A[i]) · op(B[i]) for i in [0, batch), each matrix at
    /// index i·stride of its span (stride 0 shares one matrix across the batch). Parallelised over the batch,
    /// e.g. attention scores (B·NH) x (T, hs)·(hs, T).
    /// </summary>
    /// <param name="a">batch x (M, K), or (K, M) when <paramref name="transposeA"/>, item i at i·<paramref name="strideA"/>.</param>
    /// <param name="b">batch x (K, N), or (N, K) when <paramref name="transposeB"/>, item i at i·<paramref name="strideB"/>.</param>
    /// <param name="c">batch x (M, N), item i at i·<paramref name="strideC"/>.</param>
    /// <param name="batch">Number of products.</param>
    /// <param name="m">Rows of each C.</param>
    /// <param name="n">Columns of each C.</param>
    /// <param name="k">The shared dimension.</param>
    /// <param name="strideA">Elements between consecutive A matrices (0 broadcasts one A).</param>
    /// <param name="strideB">Elements between consecutive B matrices (0 broadcasts one B).</param>
    /// <param name="strideC">Elements between consecutive C matrices (at least M·N: the outputs must not overlap).</param>
    /// <param name="transposeA">Each A is stored (K, M).</param>
    /// <param name="transposeB">Each B is stored (N, K).</param>
    /// <param name="accumulate">Add into C instead of overwriting it.</param>
    /// <param name="alpha">Scale of each product (e.g. 1/sqrt(hs) for attention).</param>
    /// <param name="pool">Threads and packing buffers; null runs on the caller.</param>
    /// <param name="isa">Micro-kernel family.</param>
    public static void MultiplyBatched(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int batch, int m, int n, int k,
        long strideA, long strideB, long strideC, bool transposeA = false, bool transposeB = false, bool accumulate = false,
        float alpha = 1f, WorkerPool? pool = null, GemmIsa isa = GemmIsa.Auto)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (strideA < 0 || strideB < 0 || strideC < (long)m * n)
            throw new ArgumentException(
                $"Gemm.MultiplyBatched: strides must be >= 0 and strideC >= M*N = {(long)m * n} so outputs do not overlap; got strideA {strideA}, strideB {strideB}, strideC {strideC}.");
        if (batch == 0) return;
        Check(a.Length, b.Length, c.Length, batch, m, n, k,
            (batch - 1) * strideA + (long)m * k, (batch - 1) * strideB + (long)k * n, (batch - 1) * strideC + (long)m * n, isa);
        CheckNoOverlap(a, b, c);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a, pb = b, pc = c)
        {
            var problem = Problem(pa, pb, pc, m, n, k, transposeA, transposeB, accumulate, alpha);
            if (pool is not null) Run(pool, problem, batch, (nint)strideA, (nint)strideB, (nint)strideC, Resolve(isa));
            else
            {
                using var temporary = new WorkerPool(1);
                Run(temporary, problem, batch, (nint)strideA, (nint)strideB, (nint)strideC, Resolve(isa));
            }
        }
    }

    /// <summary>The naive triple loop (double accumulation), kept as the reference the fast kernels are tested against.</summary>
    public static void Reference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transposeA = false, bool transposeB = false, bool accumulate = false)
        => Reference(a, b, c, m, n, k, transposeA, transposeB, accumulate, 1f);

    /// <summary>The naive triple loop with a scale: C = alpha · op(A) · op(B) (+ C).</summary>
    public static void Reference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transposeA, bool transposeB, bool accumulate, float alpha)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * m + i] : a[i * k + p];
                    float bv = transposeB ? b[j * k + p] : b[p * n + j];
                    sum += (double)av * bv;
                }
                float x = (float)(alpha * sum);
                c[i * n + j] = accumulate ? c[i * n + j] + x : x;
            }
    }

    static GemmProblem Problem(float* a, float* b, float* c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, float alpha) => new()
    {
        A = a, B = b, C = c, M = m, N = n, K = k,
        Lda = transposeA ? m : k, Ldb = transposeB ? k : n, Ldc = n,
        TransposeA = transposeA, TransposeB = transposeB, Accumulate = accumulate, Alpha = alpha,
    };

    static GemmIsa Resolve(GemmIsa isa) => isa == GemmIsa.Auto ? BestIsa : isa;

    static void Run(WorkerPool pool, GemmProblem problem, int batch, nint strideA, nint strideB, nint strideC, GemmIsa isa)
    {
        switch (isa)
        {
            case GemmIsa.Avx512: Run<Avx512Kernel>(pool, problem, batch, strideA, strideB, strideC); break;
            case GemmIsa.Avx2: Run<Avx2Kernel>(pool, problem, batch, strideA, strideB, strideC); break;
            default: Run<ScalarKernel>(pool, problem, batch, strideA, strideB, strideC); break;
        }
    }

    static void Run<TK>(WorkerPool pool, GemmProblem problem, int batch, nint strideA, nint strideB, nint strideC) where TK : struct, IMicroKernel
    {
        long work = (long)problem.M * problem.N * Math.Max(problem.K, 1);
        pool.CountGemmFlops(2L * problem.M * problem.N * problem.K * batch);
        int threads = work * batch < ParallelThreshold ? 1 : pool.Threads;
        var job = new GemmJob<TK>
        {
            Problem = problem, Pool = pool, Batch = batch, StrideA = strideA, StrideB = strideB, StrideC = strideC,
            OverBatch = batch >= threads,
            ScratchFloats = GemmDriver.ScratchFloats<TK>(problem.M, problem.N, problem.K),
        };
        if (job.OverBatch || threads == 1)
        {
            pool.Run(ref job, threads);
            return;
        }
        // Fewer items than threads: split each item's C over the threads, one item after another.
        for (int i = 0; i < batch; i++)
        {
            job.Problem = problem.Offset(i * strideA, i * strideB, i * strideC);
            job.Batch = 1;
            pool.Run(ref job, threads);
        }
    }

    /// <summary>One thread's share: a range of batch items, or a band of rows/columns of one C.</summary>
    struct GemmJob<TK> : IThreadWork where TK : struct, IMicroKernel
    {
        public GemmProblem Problem;
        public WorkerPool Pool;
        public int Batch;
        public nint StrideA, StrideB, StrideC;
        public bool OverBatch;
        public nuint ScratchFloats;

        public readonly void Execute(int thread, int threads, int slot)
        {
            float* scratch = (float*)Pool.Scratch(slot, ScratchFloats * sizeof(float));
            if (OverBatch || threads == 1)
            {
                int start = (int)((long)Batch * thread / threads), end = (int)((long)Batch * (thread + 1) / threads);
                for (int i = start; i < end; i++)
                {
                    var item = Problem.Offset(i * StrideA, i * StrideB, i * StrideC);
                    GemmDriver.Compute<TK>(item, 0, item.M, 0, item.N, scratch);
                }
                return;
            }
            // Split the larger dimension of C, in whole micro-tiles so the tile grid does not depend on the split.
            int mTiles = (Problem.M + TK.MR - 1) / TK.MR, nTiles = (Problem.N + TK.NR - 1) / TK.NR;
            if ((long)mTiles * TK.MR >= (long)nTiles * TK.NR)
            {
                int m0 = Math.Min(Problem.M, (int)((long)mTiles * thread / threads) * TK.MR);
                int m1 = Math.Min(Problem.M, (int)((long)mTiles * (thread + 1) / threads) * TK.MR);
                GemmDriver.Compute<TK>(Problem, m0, m1, 0, Problem.N, scratch);
            }
            else
            {
                int n0 = Math.Min(Problem.N, (int)((long)nTiles * thread / threads) * TK.NR);
                int n1 = Math.Min(Problem.N, (int)((long)nTiles * (thread + 1) / threads) * TK.NR);
                GemmDriver.Compute<TK>(Problem, 0, Problem.M, n0, n1, scratch);
            }
        }
    }

    static void CheckNoOverlap(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        if (c.Overlaps(a) || c.Overlaps(b))
            throw new ArgumentException("Gemm: C must not overlap A or B (the product is written while they are read); pass a separate output buffer.", "c");
    }

    static void Check(int aLength, int bLength, int cLength, int batch, int m, int n, int k, long needA, long needB, long needC, GemmIsa isa)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"Gemm: dimensions must be >= 0, got M={m}, N={n}, K={k}.");
        if (!IsSupported(isa))
            throw new ArgumentException($"Gemm: this CPU cannot run the {isa} kernels; use GemmIsa.Auto or one of the narrower ones.", nameof(isa));
        string shape = batch == 1 ? $"M={m}, N={n}, K={k}" : $"batch={batch}, M={m}, N={n}, K={k}";
        if (aLength < needA) throw new ArgumentException($"Gemm: A has {aLength} elements but {shape} needs {needA}.", "a");
        if (bLength < needB) throw new ArgumentException($"Gemm: B has {bLength} elements but {shape} needs {needB}.", "b");
        if (cLength < needC) throw new ArgumentException($"Gemm: C has {cLength} elements but {shape} needs {needC}.", "c");
    }
}
