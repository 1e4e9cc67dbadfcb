using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RewardKit.Tensors.Kernels;

/// <summary>
/// Attention of one new query per sequence over that sequence's cached keys and values: the decode step of
/// generation with a KV cache. Sequence a (in cache slot s = slots[a]) sees keys [0, lengths[a]) of its slot, its own
/// key (already stored) included, so no causal or padding mask is needed: each slot holds exactly its sequence.
/// <code>
/// qkv     (A, 3C)               the step's c_attn output, laid out [q | k | v]; only q is read
/// keys    (S, NH, cap, hs)      the cache, head-major so each head's keys are contiguous
/// values  (S, NH, cap, hs)
/// output  (A, C)                softmax(q·Kᵀ/√hs)·V per head, heads re-assembled
/// </code>
/// Work is split over the A·NH (sequence, head) units, each computed by one thread in a fixed order, so the result does
/// not depend on the thread count. For head sizes that are a multiple of 8 the scores and the weighted sum of values run in
/// 256-bit registers (32 output floats held at a time); other sizes use TensorPrimitives row by row.
/// <see cref="ReferenceForward"/> is the naive double-precision loop it is tested against.
/// </summary>
public static unsafe class CachedAttentionKernel
{
    /// <summary>The fast forward.</summary>
    /// <param name="qkv">(A, 3C).</param>
    /// <param name="keys">(S, NH, cap, hs).</param>
    /// <param name="values">(S, NH, cap, hs).</param>
    /// <param name="slots">(A) the cache slot of each sequence, in [0, S).</param>
    /// <param name="lengths">(A) keys each sequence sees, in [1, cap].</param>
    /// <param name="output">(A, C), overwritten.</param>
    /// <param name="heads">NH; hs = C / NH.</param>
    /// <param name="capacity">cap, the cache's positions per slot.</param>
    /// <param name="pool">Threads and per-thread scratch.</param>
    public static void Forward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, ReadOnlySpan<int> slots,
        ReadOnlySpan<int> lengths, Span<float> output, int heads, int capacity, WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var (a, c, _) = Check(qkv.Length, keys.Length, values.Length, slots, lengths, output.Length, heads, capacity);
        if (a == 0) return;
        fixed (float* pq = qkv, pk = keys, pv = values, po = output)
        fixed (int* ps = slots, pl = lengths)
        {
            var work = new Work { Qkv = pq, Keys = pk, Values = pv, Out = po, Slots = ps, Lengths = pl, A = a, C = c, NH = heads, Cap = capacity, Pool = pool };
            pool.Run(ref work, Math.Min(pool.Threads, a * heads));
        }
    }

    /// <summary>The naive forward in double precision, the reference <see cref="Forward"/> is tested against.</summary>
    /// <param name="qkv">(A, 3C).</param>
    /// <param name="keys">(S, NH, cap, hs).</param>
    /// <param name="values">(S, NH, cap, hs).</param>
    /// <param name="slots">(A) cache slots.</param>
    /// <param name="lengths">(A) keys each sequence sees.</param>
    /// <param name="output">(A, C), overwritten.</param>
    /// <param name="heads">NH.</param>
    /// <param name="capacity">cap.</param>
    public static void ReferenceForward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, ReadOnlySpan<int> slots,
        ReadOnlySpan<int> lengths, Span<float> output, int heads, int capacity)
    {
        var (a, c, _) = Check(qkv.Length, keys.Length, values.Length, slots, lengths, output.Length, heads, capacity);
        int hs = c / heads;
        double scale = 1.0 / Math.Sqrt(hs);
        for (int i = 0; i < a; i++)
            for (int h = 0; h < heads; h++)
            {
                int n = lengths[i];
                long head = ((long)slots[i] * heads + h) * capacity * hs;
                var p = new double[n];
                double max = double.NegativeInfinity, sum = 0;
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int d = 0; d < hs; d++) s += (double)qkv[i * 3 * c + h * hs + d] * keys[(int)(head + (long)j * hs + d)];
                    p[j] = s * scale;
                    max = Math.Max(max, p[j]);
                }
                for (int j = 0; j < n; j++) { p[j] = Math.Exp(p[j] - max); sum += p[j]; }
                for (int d = 0; d < hs; d++)
                {
                    double o = 0;
                    for (int j = 0; j < n; j++) o += p[j] / sum * values[(int)(head + (long)j * hs + d)];
                    output[i * c + h * hs + d] = (float)o;
                }
            }
    }

    static (int A, int C, int S) Check(int qkvLength, int keysLength, int valuesLength, ReadOnlySpan<int> slots, ReadOnlySpan<int> lengths,
        int outputLength, int heads, int capacity)
    {
        int a = slots.Length;
        if (heads <= 0 || capacity <= 0 || lengths.Length != a || a == 0 && (qkvLength != 0 || outputLength != 0))
            throw new ArgumentException($"CachedAttentionKernel: need heads > 0, capacity > 0 and one length per slot ({a} slots, {lengths.Length} lengths).");
        if (a == 0) return (0, 0, 0);
        if (qkvLength % (3 * a) != 0 || outputLength != qkvLength / 3)
            throw new ArgumentException($"CachedAttentionKernel: qkv ({qkvLength} floats) must be (A, 3C) and output ({outputLength} floats) (A, C) for A = {a}.");
        int c = outputLength / a;
        if (c % heads != 0) throw new ArgumentException($"CachedAttentionKernel: C = {c} must be divisible by the {heads} heads.");
        long slotFloats = (long)c * capacity;
        if (keysLength != valuesLength || keysLength % slotFloats != 0)
            throw new ArgumentException($"CachedAttentionKernel: keys ({keysLength} floats) and values ({valuesLength}) must both be (S, NH, cap, hs) with NH·cap·hs = {slotFloats}.");
        int s = (int)(keysLength / slotFloats);
        for (int i = 0; i < a; i++)
        {
            if ((uint)slots[i] >= (uint)s) throw new ArgumentOutOfRangeException(nameof(slots), $"CachedAttentionKernel: slot {slots[i]} of sequence {i} is outside the cache's {s} slots.");
            if (lengths[i] < 1 || lengths[i] > capacity) throw new ArgumentOutOfRangeException(nameof(lengths), $"CachedAttentionKernel: sequence {i} sees {lengths[i]} keys; use 1 to the capacity {capacity}.");
        }
        return (a, c, s);
    }

    /// <summary>s[j] = q · k_j for the n keys (rows of hs floats), hs a multiple of 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Scores(float* q, float* k, float* s, int n, int hs)
    {
        for (int j = 0; j < n; j++, k += hs)
        {
            var acc = Vector256<float>.Zero;
            for (int d = 0; d < hs; d += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(q + d), Vector256.Load(k + d), acc);
            s[j] = Vector256.Sum(acc);
        }
    }

    /// <summary>o = Σ_j p[j] · v_j over the n value rows of hs floats (hs a multiple of 8), 32 output floats held in registers at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Weighted(float* p, float* v, float* o, int n, int hs)
    {
        int d = 0;
        for (; d + 32 <= hs; d += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* row = v + d;
            for (int j = 0; j < n; j++, row += hs)
            {
                var w = Vector256.Create(p[j]);
                a0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(row), a0);
                a1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(row + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(row + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(row + 24), a3);
            }
            a0.Store(o + d); a1.Store(o + d + 8); a2.Store(o + d + 16); a3.Store(o + d + 24);
        }
        for (; d < hs; d += 8)
        {
            var acc = Vector256<float>.Zero;
            float* row = v + d;
            for (int j = 0; j < n; j++, row += hs) acc = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), Vector256.Load(row), acc);
            acc.Store(o + d);
        }
    }

    struct Work : IThreadWork
    {
        public float* Qkv, Keys, Values, Out;
        public int* Slots, Lengths;
        public int A, C, NH, Cap;
        public WorkerPool Pool;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int thread, int threads, int slot)
        {
            int units = A * NH, hs = C / NH;
            int start = (int)((long)units * thread / threads), end = (int)((long)units * (thread + 1) / threads);
            float scale = 1f / MathF.Sqrt(hs);
            float* scores = (float*)Pool.Scratch(slot, (nuint)Cap * sizeof(float));
            for (int unit = start; unit < end; unit++)
            {
                int i = unit / NH, h = unit % NH, n = Lengths[i];
                float* q = Qkv + (long)i * 3 * C + h * hs;
                long head = ((long)Slots[i] * NH + h) * Cap * hs;
                float* k = Keys + head, v = Values + head, o = Out + (long)i * C + h * hs;
                var s = new Span<float>(scores, n);
                bool vectors = hs % Vector256<float>.Count == 0 && Vector256.IsHardwareAccelerated;
                if (vectors) Scores(q, k, scores, n, hs);
                else for (int j = 0; j < n; j++) s[j] = TensorPrimitives.Dot(new ReadOnlySpan<float>(q, hs), new ReadOnlySpan<float>(k + (long)j * hs, hs));
                TensorPrimitives.Multiply(s, scale, s);
                float max = TensorPrimitives.Max(s);
                TensorPrimitives.Subtract(s, max, s);
                TensorPrimitives.Exp(s, s);
                TensorPrimitives.Multiply(s, 1f / TensorPrimitives.Sum(s), s);
                if (vectors) Weighted(scores, v, o, n, hs);
                else
                {
                    var output = new Span<float>(o, hs);
                    output.Clear();
                    for (int j = 0; j < n; j++) TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(v + (long)j * hs, hs), s[j], output, output);
                }
            }
        }
    }
}
