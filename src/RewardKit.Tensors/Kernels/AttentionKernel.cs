using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace RewardKit.Tensors.Kernels;

/// <summary>
/// Multi-head self-attention over a fused QKV buffer (B, T, 3C) laid out [q | k | v], as GPT-2's c_attn, following
/// llm.c's attention_forward/attention_backward. Causal (GPT-2): query i of head h sees keys j ≤ i whose mask value is
/// non-zero; bidirectional (BERT, <c>causal: false</c>): every query sees every key whose mask value is non-zero. A query
/// with no visible key gets zero probabilities and outputs 0.
/// </summary>
/// <remarks>
/// The fast kernels work on one (b, h) at a time, parallel over B·NH, in row blocks of <see cref="RowBlock"/> queries:
/// S = scale·Q·Kᵀ and O = P·V (backward: dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(P ⊙ dP))·scale, dQ += dS·K, dK += dSᵀ·Q,
/// dV += Pᵀ·dO) are register-blocked GEMM calls on the strided head slices of qkv (the GEMM packs them; nothing is
/// copied first), with the mask, causal cut and softmax fused in place between them. A block of queries [i0, i1) only
/// touches keys [first real, min(i1, last real + 1)): the fully masked causal part and the padded tail are skipped.
/// Each (b, h) is computed by one thread in a fixed order, so results do not depend on the thread count; (b, h) are
/// split over the threads by their cost (so right-padded rows balance). Scratch comes from the pool's per-thread
/// buffers: no allocation. <see cref="ReferenceForward"/> and <see cref="ReferenceBackward"/> are the naive
/// double-precision loops they are tested against.
/// </remarks>
public static unsafe class AttentionKernel
{
    /// <summary>Queries per block: a multiple of every micro-kernel's MR (12, 6, 4).</summary>
    public const int RowBlock = 48;

    /// <summary>
    /// Forward. <paramref name="att"/> (B, NH, T, T) receives the probabilities (row i is zero beyond i and at masked keys)
    /// when it is not empty (training: the backward needs them); empty for inference.
    /// </summary>
    /// <param name="qkv">(B, T, 3C).</param>
    /// <param name="mask">(B, T), non-zero for a real key; empty for none.</param>
    /// <param name="att">(B, NH, T, T) probabilities out, or empty.</param>
    /// <param name="output">(B, T, C), overwritten.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="channels">C.</param>
    /// <param name="heads">NH; hs = C / NH.</param>
    /// <param name="pool">Threads and per-thread scratch.</param>
    /// <param name="isa">GEMM micro-kernel family; narrower ones are for tests.</param>
    /// <param name="causal">True (GPT-2): query i sees keys j ≤ i; false (BERT): every key.</param>
    public static void Forward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> mask, Span<float> att, Span<float> output,
        int batch, int time, int channels, int heads, WorkerPool pool, GemmIsa isa = GemmIsa.Auto, bool causal = true)
    {
        Check(qkv.Length, mask.Length, output.Length, batch, time, channels, heads);
        bool keep = !att.IsEmpty;
        if (keep && att.Length != (long)batch * heads * time * time) throw new ArgumentException("AttentionKernel: att must hold B·NH·T·T floats.");
        CheckIsa(isa);
        if (batch * heads == 0 || time == 0) return;
        fixed (float* pq = qkv, pm = mask, pa = att, po = output)
        {
            var shape = new Shape(pq, mask.IsEmpty ? null : pm, batch, time, channels, heads, causal);
            switch (Resolve(isa))
            {
                case GemmIsa.Avx512: RunForward<Avx512Kernel>(shape, keep ? pa : null, po, pool); break;
                case GemmIsa.Avx2: RunForward<Avx2Kernel>(shape, keep ? pa : null, po, pool); break;
                default: RunForward<ScalarKernel>(shape, keep ? pa : null, po, pool); break;
            }
        }
    }

    /// <summary>
    /// Backward: adds into <paramref name="dqkv"/> given the output gradient and the probabilities kept by <see cref="Forward"/>
    /// (with the same <paramref name="mask"/>), or, when <paramref name="att"/> is empty, probabilities recomputed block by
    /// block from qkv by the forward's own code (the same values bit for bit; one more Q·Kᵀ and softmax, no B·NH·T·T buffer).
    /// </summary>
    /// <param name="qkv">(B, T, 3C).</param>
    /// <param name="mask">(B, T) as given to the forward, or empty.</param>
    /// <param name="att">(B, NH, T, T) from the forward, or empty to recompute them.</param>
    /// <param name="doutput">(B, T, C).</param>
    /// <param name="dqkv">(B, T, 3C), accumulated into.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="channels">C.</param>
    /// <param name="heads">NH.</param>
    /// <param name="pool">Threads and per-thread scratch.</param>
    /// <param name="isa">GEMM micro-kernel family; narrower ones are for tests.</param>
    /// <param name="causal">As given to the forward.</param>
    public static void Backward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> mask, ReadOnlySpan<float> att, ReadOnlySpan<float> doutput,
        Span<float> dqkv, int batch, int time, int channels, int heads, WorkerPool pool, GemmIsa isa = GemmIsa.Auto, bool causal = true)
    {
        Check(qkv.Length, mask.Length, doutput.Length, batch, time, channels, heads);
        if (dqkv.Length != qkv.Length || (!att.IsEmpty && att.Length != (long)batch * heads * time * time))
            throw new ArgumentException("AttentionKernel: dqkv must match qkv and att must be empty or hold B·NH·T·T floats.");
        CheckIsa(isa);
        if (batch * heads == 0 || time == 0) return;
        fixed (float* pq = qkv, pm = mask, pa = att, pdo = doutput, pdq = dqkv)
        {
            var shape = new Shape(pq, mask.IsEmpty ? null : pm, batch, time, channels, heads, causal);
            float* kept = att.IsEmpty ? null : pa;
            switch (Resolve(isa))
            {
                case GemmIsa.Avx512: RunBackward<Avx512Kernel>(shape, kept, pdo, pdq, pool); break;
                case GemmIsa.Avx2: RunBackward<Avx2Kernel>(shape, kept, pdo, pdq, pool); break;
                default: RunBackward<ScalarKernel>(shape, kept, pdo, pdq, pool); break;
            }
        }
    }

    /// <summary>The naive forward (double accumulation), the reference the fast kernel is tested against.</summary>
    /// <param name="qkv">(B, T, 3C).</param>
    /// <param name="mask">(B, T), non-zero for a real key; empty for none.</param>
    /// <param name="output">(B, T, C), overwritten.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="channels">C.</param>
    /// <param name="heads">NH.</param>
    /// <param name="causal">True: query i sees keys j ≤ i; false: every key.</param>
    public static void ReferenceForward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> mask, Span<float> output, int batch, int time, int channels, int heads, bool causal = true)
    {
        Check(qkv.Length, mask.Length, output.Length, batch, time, channels, heads);
        int hs = channels / heads;
        var p = new double[time];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < time; i++)
                {
                    double sum = ReferenceProbabilities(qkv, mask, p, b, h, i, time, channels, heads, causal);
                    int end = causal ? i + 1 : time;
                    for (int d = 0; d < hs; d++)
                    {
                        double o = 0;
                        if (sum > 0)
                            for (int j = 0; j < end; j++) o += p[j] * qkv[(b * time + j) * 3 * channels + 2 * channels + h * hs + d];
                        output[(b * time + i) * channels + h * hs + d] = (float)o;
                    }
                }
    }

    /// <summary>The naive backward (double accumulation, probabilities recomputed): adds into <paramref name="dqkv"/>.</summary>
    /// <param name="qkv">(B, T, 3C).</param>
    /// <param name="mask">(B, T), non-zero for a real key; empty for none.</param>
    /// <param name="doutput">(B, T, C).</param>
    /// <param name="dqkv">(B, T, 3C), accumulated into.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="channels">C.</param>
    /// <param name="heads">NH.</param>
    /// <param name="causal">As given to the forward.</param>
    public static void ReferenceBackward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> mask, ReadOnlySpan<float> doutput, Span<float> dqkv,
        int batch, int time, int channels, int heads, bool causal = true)
    {
        Check(qkv.Length, mask.Length, doutput.Length, batch, time, channels, heads);
        if (dqkv.Length != qkv.Length) throw new ArgumentException("AttentionKernel: dqkv must match qkv.");
        int hs = channels / heads, c3 = 3 * channels;
        double scale = 1.0 / Math.Sqrt(hs);
        var p = new double[time];
        var dp = new double[time];
        var grad = new double[dqkv.Length];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < time; i++)
                {
                    if (ReferenceProbabilities(qkv, mask, p, b, h, i, time, channels, heads, causal) == 0) continue;
                    int qi = (b * time + i) * c3 + h * hs, oi = (b * time + i) * channels + h * hs, end = causal ? i + 1 : time;
                    double weighted = 0;
                    for (int j = 0; j < end; j++)
                    {
                        int vj = (b * time + j) * c3 + 2 * channels + h * hs;
                        dp[j] = 0;
                        for (int d = 0; d < hs; d++)
                        {
                            dp[j] += (double)doutput[oi + d] * qkv[vj + d];
                            grad[vj + d] += p[j] * doutput[oi + d];
                        }
                        weighted += p[j] * dp[j];
                    }
                    for (int j = 0; j < end; j++)
                    {
                        double ds = p[j] * (dp[j] - weighted) * scale;
                        int kj = (b * time + j) * c3 + channels + h * hs;
                        for (int d = 0; d < hs; d++)
                        {
                            grad[qi + d] += ds * qkv[kj + d];
                            grad[kj + d] += ds * qkv[qi + d];
                        }
                    }
                }
        for (int i = 0; i < grad.Length; i++) dqkv[i] += (float)grad[i];
    }

    /// <summary>Row i of head h's probabilities into p[0..i] (causal) or p[0..T) (zero for masked keys); returns their sum (0 or 1).</summary>
    static double ReferenceProbabilities(ReadOnlySpan<float> qkv, ReadOnlySpan<float> mask, double[] p, int b, int h, int i, int time, int channels, int heads, bool causal)
    {
        int hs = channels / heads, c3 = 3 * channels, end = causal ? i + 1 : time;
        double scale = 1.0 / Math.Sqrt(hs);
        double max = double.NegativeInfinity;
        for (int j = 0; j < end; j++)
        {
            p[j] = double.NegativeInfinity;
            if (!mask.IsEmpty && mask[b * time + j] == 0) continue;
            double s = 0;
            for (int d = 0; d < hs; d++)
                s += (double)qkv[(b * time + i) * c3 + h * hs + d] * qkv[(b * time + j) * c3 + channels + h * hs + d];
            p[j] = s * scale;
            max = Math.Max(max, p[j]);
        }
        double sum = 0;
        for (int j = 0; j < end; j++) { p[j] = double.IsNegativeInfinity(p[j]) ? 0 : Math.Exp(p[j] - max); sum += p[j]; }
        if (sum > 0) for (int j = 0; j < end; j++) p[j] /= sum;
        return sum > 0 ? 1 : 0;
    }

    static void Check(int qkvLength, int maskLength, int outputLength, int batch, int time, int channels, int heads)
    {
        if (batch < 0 || time < 0 || channels < 0 || heads <= 0 || channels % heads != 0)
            throw new ArgumentException($"AttentionKernel: need B, T, C >= 0 and C ({channels}) divisible by the {heads} heads.");
        if (qkvLength != (long)batch * time * 3 * channels || outputLength != (long)batch * time * channels
            || (maskLength != 0 && maskLength != (long)batch * time))
            throw new ArgumentException($"AttentionKernel: buffer lengths do not match B={batch}, T={time}, C={channels}.");
    }

    static void CheckIsa(GemmIsa isa)
    {
        if (!Gemm.IsSupported(isa))
            throw new ArgumentException($"AttentionKernel: this CPU cannot run the {isa} kernels; use GemmIsa.Auto or one of the narrower ones.", nameof(isa));
    }

    static GemmIsa Resolve(GemmIsa isa) => isa == GemmIsa.Auto ? Gemm.BestIsa : isa;

    static void RunForward<TK>(in Shape shape, float* att, float* output, WorkerPool pool) where TK : struct, IMicroKernel
    {
        var work = new ForwardWork<TK> { Shape = shape, Att = att, Out = output, Pool = pool };
        pool.Run(ref work, Math.Min(pool.Threads, shape.B * shape.NH));
    }

    static void RunBackward<TK>(in Shape shape, float* att, float* doutput, float* dqkv, WorkerPool pool) where TK : struct, IMicroKernel
    {
        var work = new BackwardWork<TK> { Shape = shape, Att = att, DOut = doutput, DQkv = dqkv, Pool = pool };
        pool.Run(ref work, Math.Min(pool.Threads, shape.B * shape.NH));
    }

    /// <summary>The problem and the per-row key ranges, shared by the forward and the backward.</summary>
    readonly struct Shape(float* qkv, float* mask, int b, int t, int c, int nh, bool causal)
    {
        public readonly float* Qkv = qkv, Mask = mask;
        public readonly int B = b, T = t, C = c, NH = nh;
        public readonly bool Causal = causal;
        public int HeadSize => C / NH;

        /// <summary>
        /// The first query that sees a key: causal, the first real key's position (earlier queries see nothing); bidirectional,
        /// 0 when the row has a real key, else T (no query sees anything).
        /// </summary>
        public int FirstQuery(int low, int high) => Causal ? low : low < high ? 0 : T;

        /// <summary>The keys [low, low + result) that queries [i0, i0 + rows) read: up to the block's causal end, or all real ones.</summary>
        public int KeysOfBlock(int low, int high, int i0, int rows) => (Causal ? Math.Min(i0 + rows, high) : high) - low;

        /// <summary>The visible keys [low, low + result) of query i (≥ 1 when i ≥ <see cref="FirstQuery"/>).</summary>
        public int Visible(int low, int high, int i) => (Causal ? Math.Min(i + 1, high) : high) - low;

        /// <summary>Real keys of row b lie in [Low, High); Dense when every key in between is real. Low = High = T when none is.</summary>
        public void Keys(int b, out int low, out int high, out bool dense)
        {
            low = 0; high = T; dense = true;
            if (Mask == null) return;
            float* m = Mask + (long)b * T;
            while (low < T && m[low] == 0f) low++;
            if (low == T) { high = T; return; }
            while (m[high - 1] == 0f) high--;
            for (int j = low; j < high; j++) if (m[j] == 0f) { dense = false; break; }
        }

        /// <summary>Multiply-adds of one (b, h) with keys [low, high): rows from the first seeing query on, each block up to its keys' end.</summary>
        public long Cost(int low, int high)
        {
            long cost = T;   // the row clears
            for (int i0 = FirstQuery(low, high); i0 < T; i0 += RowBlock)
                cost += (long)(Math.Min(T, i0 + RowBlock) - i0) * KeysOfBlock(low, high, i0, RowBlock);
            return cost;
        }

        /// <summary>The (b, h) units [start, end) of participant <paramref name="thread"/>: contiguous, balanced by cost.</summary>
        public void Share(int thread, int threads, out int start, out int end)
        {
            if (threads == 1) { start = 0; end = B * NH; return; }
            long total = 0;
            for (int b = 0; b < B; b++) { Keys(b, out int lo, out int hi, out _); total += Cost(lo, hi) * NH; }
            // Unit u goes to the thread whose equal share of the total holds the middle of u's cost.
            start = -1; end = B * NH;
            long before = 0;
            for (int b = 0; b < B; b++)
            {
                Keys(b, out int lo, out int hi, out _);
                long cost = Cost(lo, hi);
                for (int h = 0; h < NH; h++, before += cost)
                {
                    int owner = (int)Math.Min(threads - 1, (before * 2 + cost) * threads / (2 * Math.Max(total, 1)));
                    int unit = b * NH + h;
                    if (owner == thread && start < 0) start = unit;
                    if (owner > thread) { end = unit; if (start < 0) start = unit; return; }
                }
            }
            if (start < 0) start = end;
        }

        /// <summary>Scratch floats one thread needs: the GEMM packing buffers, then <paramref name="blocks"/> blocks of scores.</summary>
        public nuint ScratchFloats<TK>(out nuint gemmFloats, int blocks = 1) where TK : struct, IMicroKernel
        {
            int big = Math.Max(T, HeadSize);
            gemmFloats = (GemmDriver.ScratchFloats<TK>(big, big, big) + 15) & ~(nuint)15;
            return gemmFloats + (nuint)blocks * (nuint)RowBlock * (nuint)T;
        }
    }

    /// <summary>One block product on the current thread; returns its FLOPs (2·m·n·k) for <see cref="WorkerPool.GemmFlops"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static long Multiply<TK>(float* a, nint lda, bool transposeA, float* b, nint ldb, bool transposeB, float* c, nint ldc,
        int m, int n, int k, float alpha, bool accumulate, float* scratch) where TK : struct, IMicroKernel
    {
        var problem = new GemmProblem
        {
            A = a, B = b, C = c, M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc,
            TransposeA = transposeA, TransposeB = transposeB, Accumulate = accumulate, Alpha = alpha,
        };
        GemmDriver.Compute<TK>(problem, 0, m, 0, n, scratch);
        return 2L * m * n * k;
    }

    struct ForwardWork<TK> : IThreadWork where TK : struct, IMicroKernel
    {
        public Shape Shape;
        public float* Att, Out;
        public WorkerPool Pool;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int thread, int threads, int slot)
        {
            Shape.Share(thread, threads, out int start, out int end);
            if (start >= end) return;
            int T = Shape.T, C = Shape.C, NH = Shape.NH, hs = Shape.HeadSize, c3 = 3 * C;
            float scale = 1f / MathF.Sqrt(hs);
            nuint floats = Shape.ScratchFloats<TK>(out nuint gemmFloats);
            float* gemm = (float*)Pool.Scratch(slot, floats * sizeof(float));
            float* block = gemm + gemmFloats;
            long flops = 0;
            for (int unit = start; unit < end; unit++)
            {
                int b = unit / NH, h = unit % NH;
                Shape.Keys(b, out int low, out int high, out bool dense);
                float* q = Shape.Qkv + (long)b * T * c3 + h * hs, k = q + C, v = q + 2 * C;
                float* o = Out + (long)b * T * C + h * hs;
                float* attUnit = Att == null ? null : Att + (long)unit * T * T;
                // Queries that see no key (before the first real key, or every query of a row without one) output zero.
                int first = Shape.FirstQuery(low, high);
                for (int i = 0; i < first; i++)
                {
                    new Span<float>(o + (long)i * C, hs).Clear();
                    if (attUnit != null) new Span<float>(attUnit + (long)i * T, T).Clear();
                }
                for (int i0 = first; i0 < T; i0 += RowBlock)
                {
                    int rows = Math.Min(RowBlock, T - i0), keys = Shape.KeysOfBlock(low, high, i0, rows);
                    float* s = attUnit != null ? attUnit + (long)i0 * T + low : block;
                    nint lds = attUnit != null ? T : keys;
                    flops += Probabilities<TK>(Shape, q, k, b, low, high, dense, i0, rows, keys, s, lds, scale, gemm);
                    if (attUnit != null)
                        for (int r = 0; r < rows; r++)
                        {
                            new Span<float>(attUnit + (long)(i0 + r) * T, low).Clear();
                            new Span<float>(s + r * lds + keys, T - low - keys).Clear();
                        }
                    // O = P·V.
                    flops += Multiply<TK>(s, lds, false, v + (long)low * c3, c3, false, o + (long)i0 * C, C, rows, hs, keys, 1f, false, gemm);
                }
            }
            Pool.CountGemmFlops(flops);
        }
    }

    /// <summary>
    /// P for queries [i0, i0+rows) and keys [low, low+keys) of one (b, h) into s (row stride lds): S = scale·Q·Kᵀ, masked
    /// keys −∞, softmax over each row's visible keys, zero on the causal upper part. The forward and the recomputing
    /// backward both call this, so recomputed probabilities equal the forward's bit for bit.
    /// </summary>
    /// <returns>The FLOPs of the Q·Kᵀ product.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static long Probabilities<TK>(in Shape shape, float* q, float* k, int b, int low, int high, bool dense, int i0, int rows, int keys,
        float* s, nint lds, float scale, float* gemm) where TK : struct, IMicroKernel
    {
        int T = shape.T, c3 = 3 * shape.C;
        long flops = Multiply<TK>(q + (long)i0 * c3, c3, false, k + (long)low * c3, c3, true, s, lds, rows, keys, shape.HeadSize, scale, false, gemm);
        for (int r = 0; r < rows; r++)
        {
            int i = i0 + r, visible = shape.Visible(low, high, i);   // ≥ 1: key `low` is real (and ≤ i when causal)
            float* row = s + r * lds;
            if (!dense)
                for (int j = 0; j < visible; j++)
                    if (shape.Mask[(long)b * T + low + j] == 0f) row[j] = float.NegativeInfinity;
            Softmax(new Span<float>(row, visible));
            new Span<float>(row + visible, keys - visible).Clear();   // the causal upper part of the block
        }
        return flops;
    }

    /// <summary>In-place softmax of a row with at least one finite entry (masked entries are −∞ and become 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Softmax(Span<float> row)
    {
        float max = TensorPrimitives.Max(row);
        Debug.Assert(!float.IsNegativeInfinity(max));
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp(row, row);
        TensorPrimitives.Multiply(row, 1f / TensorPrimitives.Sum(row), row);
    }

    struct BackwardWork<TK> : IThreadWork where TK : struct, IMicroKernel
    {
        public Shape Shape;
        public float* Att, DOut, DQkv;
        public WorkerPool Pool;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int thread, int threads, int slot)
        {
            Shape.Share(thread, threads, out int start, out int end);
            if (start >= end) return;
            int T = Shape.T, C = Shape.C, NH = Shape.NH, hs = Shape.HeadSize, c3 = 3 * C;
            float scale = 1f / MathF.Sqrt(hs);
            nuint floats = Shape.ScratchFloats<TK>(out nuint gemmFloats, blocks: Att == null ? 2 : 1);
            float* gemm = (float*)Pool.Scratch(slot, floats * sizeof(float));
            float* dS = gemm + gemmFloats;
            float* recomputed = dS + (nint)RowBlock * T;   // P of one block when the forward kept none
            long flops = 0;
            for (int unit = start; unit < end; unit++)
            {
                int b = unit / NH, h = unit % NH;
                Shape.Keys(b, out int low, out int high, out bool dense);
                long head = (long)b * T * c3 + h * hs;
                float* q = Shape.Qkv + head, k = q + C, v = q + 2 * C;
                float* dq = DQkv + head, dk = dq + C, dv = dq + 2 * C;
                float* dO = DOut + (long)b * T * C + h * hs;
                float* attUnit = Att == null ? null : Att + (long)unit * T * T;
                for (int i0 = Shape.FirstQuery(low, high); i0 < T; i0 += RowBlock)
                {
                    int rows = Math.Min(RowBlock, T - i0), keys = Shape.KeysOfBlock(low, high, i0, rows);
                    float* p = attUnit != null ? attUnit + (long)i0 * T + low : recomputed;
                    nint ldp = attUnit != null ? T : keys;
                    if (attUnit == null) flops += Probabilities<TK>(Shape, q, k, b, low, high, dense, i0, rows, keys, p, ldp, scale, gemm);
                    // dP = dO·Vᵀ, then dS = P ⊙ (dP − Σ P ⊙ dP)·scale row by row (zero where P is).
                    flops += Multiply<TK>(dO + (long)i0 * C, C, false, v + (long)low * c3, c3, true, dS, keys, rows, keys, hs, 1f, false, gemm);
                    for (int r = 0; r < rows; r++)
                    {
                        var pRow = new ReadOnlySpan<float>(p + r * ldp, keys);
                        var dRow = new Span<float>(dS + r * keys, keys);
                        float weighted = TensorPrimitives.Dot(pRow, dRow);
                        TensorPrimitives.Subtract(dRow, weighted, dRow);
                        TensorPrimitives.Multiply(dRow, pRow, dRow);
                        TensorPrimitives.Multiply(dRow, scale, dRow);
                    }
                    // dQ += dS·K;  dK += dSᵀ·Q;  dV += Pᵀ·dO.
                    flops += Multiply<TK>(dS, keys, false, k + (long)low * c3, c3, false, dq + (long)i0 * c3, c3, rows, hs, keys, 1f, true, gemm);
                    flops += Multiply<TK>(dS, keys, true, q + (long)i0 * c3, c3, false, dk + (long)low * c3, c3, keys, hs, rows, 1f, true, gemm);
                    flops += Multiply<TK>(p, ldp, true, dO + (long)i0 * C, C, false, dv + (long)low * c3, c3, keys, hs, rows, 1f, true, gemm);
                }
            }
            Pool.CountGemmFlops(flops);
        }
    }
}
