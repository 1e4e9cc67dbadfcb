using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RewardKit.Tensors.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace RewardKit.Models.Quantization;

/// <summary>Which integer micro-kernel <see cref="Int8Gemm"/> runs.</summary>
public enum Int8GemmIsa
{
    /// <summary>The widest this machine supports.</summary>
    Auto,

    /// <summary>Plain loops (<see cref="Int8Gemm.Reference"/>).</summary>
    Scalar,

    /// <summary>AVX2 <c>vpmaddwd</c> on 256-bit vectors.</summary>
    Avx2,

    /// <summary>AVX-512BW <c>vpmaddwd</c> on 512-bit vectors.</summary>
    Avx512,
}

/// <summary>
/// Y = X · Wᵀ (+ bias) with W an <see cref="Int8Matrix"/> (Out, In) and X quantised per row on the fly, all products and
/// sums in int32 (exact), rescaled once per output:
/// <code>
/// qa   = min(32767, ⌊(2³¹ − 1) / (127 · In)⌋)           the largest activation level that cannot overflow int32
/// sx_r = max_i |X[r, i]| / qa,   Xq[r, i] = round(X[r, i] / sx_r)            (int16)
/// Y[r, o] = (float)(Σ_i Xq[r, i] · Wq[o, i]) · sx_r · sw_o + bias[o]
/// </code>
/// Activations keep 12–16 bits (15 for In ≤ 516), so the error is almost all the weights' own rounding.
/// </summary>
/// <remarks>
/// The weights are packed once into panels of 16 output channels, each k-pair of the 16 channels adjacent
/// (<c>[w[o0,k], w[o0,k+1], w[o1,k], w[o1,k+1], …]</c> as int16), so one <c>vpmaddwd</c> of a broadcast activation pair
/// with a panel row gives 16 channels × 2 multiply-adds. AVX-512BW and AVX2 (two 256-bit halves of the same panel) run the
/// same integer sums as <see cref="Reference"/>, and the rescaling is the same scalar code, so every ISA and thread count
/// gives bit-identical outputs. The machine this was written on (Zen 4) has AVX-512 VNNI, but .NET 10 exposes VNNI only as
/// <c>AvxVnni</c>/<c>Avx10v1</c>, which it does not report there, hence <c>vpmaddwd</c> + <c>vpaddd</c>.
/// </remarks>
public sealed unsafe class Int8Gemm
{
    /// <summary>Output channels per packed panel (one 512-bit vector of int32 sums).</summary>
    public const int PanelWidth = 16;

    /// <summary>Rows of X per micro-kernel call.</summary>
    const int RowBlock = 4;

    /// <summary>Below this many multiply-adds a call runs on one thread.</summary>
    const long ParallelThreshold = 64L * 64 * 64;

    readonly short[] _packed;   // (panels, KPairs, 32) int16
    readonly float[]? _bias;

    /// <summary>Packs <paramref name="weights"/> (Out, In) for the fast path; <paramref name="bias"/> (Out) or null.</summary>
    public Int8Gemm(Int8Matrix weights, ReadOnlySpan<float> bias = default)
    {
        Weights = weights ?? throw new ArgumentNullException(nameof(weights));
        if (!bias.IsEmpty && bias.Length != weights.Rows)
            throw new ArgumentException($"bias has {bias.Length} entries for {weights.Rows} output channels.", nameof(bias));
        _bias = bias.IsEmpty ? null : bias.ToArray();
        In = weights.Columns;
        Out = weights.Rows;
        KPairs = (In + 1) / 2;
        Panels = (Out + PanelWidth - 1) / PanelWidth;
        ActivationLevels = LevelsFor(In);
        _packed = new short[(long)Panels * KPairs * 2 * PanelWidth];
        var w = weights.Values;
        for (int p = 0; p < Panels; p++)
            for (int kk = 0; kk < KPairs; kk++)
            {
                int baseIndex = (p * KPairs + kk) * 2 * PanelWidth;
                for (int j = 0; j < PanelWidth; j++)
                {
                    int o = p * PanelWidth + j;
                    if (o >= Out) break;
                    int k = 2 * kk;
                    _packed[baseIndex + 2 * j] = w[o * In + k];
                    if (k + 1 < In) _packed[baseIndex + 2 * j + 1] = w[o * In + k + 1];
                }
            }
    }

    /// <summary>The quantised weights (Out, In).</summary>
    public Int8Matrix Weights { get; }

    /// <summary>In: input features (K).</summary>
    public int In { get; }

    /// <summary>Out: output channels (N).</summary>
    public int Out { get; }

    /// <summary>⌈In / 2⌉: k-pairs per packed panel.</summary>
    public int KPairs { get; }

    /// <summary>⌈Out / 16⌉ packed panels.</summary>
    public int Panels { get; }

    /// <summary>qa: activations are rounded to the integers −qa..qa (see the class summary).</summary>
    public int ActivationLevels { get; }

    /// <summary>The ISA <see cref="Int8GemmIsa.Auto"/> resolves to on this machine.</summary>
    public static Int8GemmIsa BestIsa { get; } =
        Avx512BW.IsSupported ? Int8GemmIsa.Avx512 : Avx2.IsSupported ? Int8GemmIsa.Avx2 : Int8GemmIsa.Scalar;

    /// <summary>True when this machine can run <paramref name="isa"/>.</summary>
    public static bool IsSupported(Int8GemmIsa isa) => isa switch
    {
        Int8GemmIsa.Auto or Int8GemmIsa.Scalar => true,
        Int8GemmIsa.Avx2 => Avx2.IsSupported,
        Int8GemmIsa.Avx512 => Avx512BW.IsSupported,
        _ => false,
    };

    /// <summary>qa for a dot product of <paramref name="inFeatures"/> terms: 127 · qa · In must fit in int32.</summary>
    public static int LevelsFor(int inFeatures) => (int)Math.Min(32767, int.MaxValue / (127L * Math.Max(1, inFeatures)));

    /// <summary>
    /// Quantises each row of <paramref name="x"/> (rows, In) to int16 levels ±<paramref name="levels"/>, writing
    /// <paramref name="q"/> (rows, 2·⌈In/2⌉, zero-padded) and the scale of each row into <paramref name="rowScales"/> (rows).
    /// </summary>
    public static void QuantizeRows(ReadOnlySpan<float> x, int rows, int inFeatures, int levels, Span<short> q, Span<float> rowScales)
    {
        int stride = 2 * ((inFeatures + 1) / 2);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * inFeatures, inFeatures);
            var target = q.Slice(r * stride, stride);
            float max = inFeatures == 0 ? 0 : Math.Abs(TensorPrimitives.MaxMagnitude(row));
            if (!float.IsFinite(max)) throw new ArgumentException($"Int8Gemm: row {r} of x holds a non-finite value.", nameof(x));
            rowScales[r] = max / levels;
            if (max == 0) { target.Clear(); continue; }
            RoundRow(row, levels / max, levels, target);
        }
    }

    /// <summary>target[i] = round_half_even(clamp(row[i] · inverse, ±levels)); the padding entry (odd In) is zeroed.</summary>
    static void RoundRow(ReadOnlySpan<float> row, float inverse, int levels, Span<short> target)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && row.Length >= 32)
        {
            var scale = Vector512.Create(inverse);
            var hi = Vector512.Create((float)levels);
            var lo = -hi;
            ref float src = ref MemoryMarshal.GetReference(row);
            ref short dst = ref MemoryMarshal.GetReference(target);
            for (; i <= row.Length - 32; i += 32)
            {
                var a = Vector512.Min(Vector512.Max(Vector512.Round(Vector512.LoadUnsafe(ref src, (nuint)i) * scale), lo), hi);
                var b = Vector512.Min(Vector512.Max(Vector512.Round(Vector512.LoadUnsafe(ref src, (nuint)(i + 16)) * scale), lo), hi);
                Vector512.Narrow(Vector512.ConvertToInt32(a), Vector512.ConvertToInt32(b)).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated && row.Length >= 16)
        {
            var scale = Vector256.Create(inverse);
            var hi = Vector256.Create((float)levels);
            var lo = -hi;
            ref float src = ref MemoryMarshal.GetReference(row);
            ref short dst = ref MemoryMarshal.GetReference(target);
            for (; i <= row.Length - 16; i += 16)
            {
                var a = Vector256.Min(Vector256.Max(Vector256.Round(Vector256.LoadUnsafe(ref src, (nuint)i) * scale), lo), hi);
                var b = Vector256.Min(Vector256.Max(Vector256.Round(Vector256.LoadUnsafe(ref src, (nuint)(i + 8)) * scale), lo), hi);
                Vector256.Narrow(Vector256.ConvertToInt32(a), Vector256.ConvertToInt32(b)).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < row.Length; i++) target[i] = (short)Math.Clamp(MathF.Round(row[i] * inverse), -levels, levels);
        for (; i < target.Length; i++) target[i] = 0;
    }

    /// <summary>
    /// The reference: Y = X · Wᵀ + bias with the same quantisation, sums in long over the unpacked weights, the same rescaling.
    /// x (rows, In), y (rows, Out).
    /// </summary>
    public void Reference(ReadOnlySpan<float> x, int rows, Span<float> y)
    {
        CheckShapes(x.Length, y.Length, rows);
        int stride = 2 * KPairs;
        var q = new short[rows * stride];
        var scales = new float[rows];
        QuantizeRows(x, rows, In, ActivationLevels, q, scales);
        var w = Weights.Values;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < Out; o++)
            {
                long sum = 0;
                for (int i = 0; i < In; i++) sum += q[r * stride + i] * (long)w[o * In + i];
                Debug.Assert(sum is >= int.MinValue and <= int.MaxValue);
                y[r * Out + o] = Rescale((int)sum, scales[r], o);
            }
    }

    /// <summary>The fast path: Y = X · Wᵀ + bias, split over rows (or, for few rows, output panels) across <paramref name="pool"/> (one thread when null).</summary>
    /// <param name="x">(rows, In).</param>
    /// <param name="rows">Rows of X and Y.</param>
    /// <param name="y">(rows, Out), overwritten.</param>
    /// <param name="pool">Threads; null runs on the caller.</param>
    /// <param name="isa">Micro-kernel family (tests force the narrower ones).</param>
    public void Multiply(ReadOnlySpan<float> x, int rows, Span<float> y, WorkerPool? pool = null, Int8GemmIsa isa = Int8GemmIsa.Auto)
    {
        CheckShapes(x.Length, y.Length, rows);
        if (isa == Int8GemmIsa.Auto) isa = BestIsa;
        if (!IsSupported(isa)) throw new PlatformNotSupportedException($"Int8Gemm: this machine cannot run the {isa} kernel.");
        if (isa == Int8GemmIsa.Scalar) { Reference(x, rows, y); return; }
        if (rows == 0) return;
        int stride = 2 * KPairs;
        var q = ArrayPool<short>.Shared.Rent(rows * stride);
        var scales = ArrayPool<float>.Shared.Rent(rows);
        try
        {
            QuantizeRows(x, rows, In, ActivationLevels, q, scales);
            fixed (short* qp = q)
            fixed (float* yp = y)
            fixed (float* sp = scales)
            {
                int threads = pool is null || (long)rows * In * Out < ParallelThreshold ? 1 : pool.Threads;
                bool splitRows = rows >= 4 * RowBlock * threads;   // many rows: each thread its rows, all panels; few: split the panels
                if (!splitRows) threads = Math.Min(threads, Panels);
                var work = new PanelWork { Gemm = this, Q = qp, RowScales = sp, Y = yp, Rows = rows, Wide = isa == Int8GemmIsa.Avx512, SplitRows = splitRows };
                if (threads <= 1) work.Execute(0, 1, 0);
                else pool!.Run(ref work, threads);
            }
        }
        finally
        {
            ArrayPool<short>.Shared.Return(q);
            ArrayPool<float>.Shared.Return(scales);
        }
    }

    /// <summary>Rows of X swept over every panel before the next chunk (their int16 rows stay in L1/L2).</summary>
    const int RowChunk = 64;

    unsafe struct PanelWork : IThreadWork
    {
        public Int8Gemm Gemm;
        public short* Q;
        public float* RowScales;
        public float* Y;
        public int Rows;
        public bool Wide;
        public bool SplitRows;

        public void Execute(int thread, int threads, int slot)
        {
            int panels = Gemm.Panels;
            if (SplitRows)
            {
                // Contiguous row ranges in whole row blocks; every thread sweeps all panels.
                int blocks = (Rows + RowBlock - 1) / RowBlock;
                int first = (int)((long)thread * blocks / threads) * RowBlock, last = Math.Min(Rows, (int)((long)(thread + 1) * blocks / threads) * RowBlock);
                Gemm.RunRows(0, panels, first, last, Q, RowScales, Y, Wide);
            }
            else
            {
                int first = (int)((long)thread * panels / threads), last = (int)((long)(thread + 1) * panels / threads);
                Gemm.RunRows(first, last, 0, Rows, Q, RowScales, Y, Wide);
            }
        }
    }

    /// <summary>Panels [panelFirst, panelLast) × rows [rowFirst, rowLast), in row chunks, two panels at a time.</summary>
    unsafe void RunRows(int panelFirst, int panelLast, int rowFirst, int rowLast, short* q, float* rowScales, float* y, bool wide)
    {
        for (int c0 = rowFirst; c0 < rowLast; c0 += RowChunk)
        {
            int c1 = Math.Min(rowLast, c0 + RowChunk);
            int p = panelFirst;
            for (; p + 1 < panelLast; p += 2) RunPanels(p, 2, c0, c1, q, rowScales, y, wide);
            if (p < panelLast) RunPanels(p, 1, c0, c1, q, rowScales, y, wide);
        }
    }

    unsafe void RunPanels(int panel, int count, int rowFirst, int rowLast, short* q, float* rowScales, float* y, bool wide)
    {
        int stride = 2 * KPairs;
        int panelShorts = KPairs * 2 * PanelWidth;
        Span<int> sums = stackalloc int[2 * RowBlock * PanelWidth];   // (panel, row, 16)
        fixed (short* packed = &_packed[(long)panel * panelShorts])
        fixed (int* s = sums)
        {
            for (int r0 = rowFirst; r0 < rowLast; r0 += RowBlock)
            {
                int mr = Math.Min(RowBlock, rowLast - r0);
                int* a = (int*)(q + (long)r0 * stride);   // activation pairs as int32
                for (int c = 0; c < count; c++)
                {
                    if (c == 0 && count == 2 && wide && mr == RowBlock) { Kernel512x4x2(a, KPairs, packed, packed + panelShorts, s, s + RowBlock * PanelWidth); break; }
                    short* b = packed + c * panelShorts;
                    int* target = s + c * RowBlock * PanelWidth;
                    if (wide)
                    {
                        if (mr == RowBlock) Kernel512x4(a, KPairs, b, target);
                        else for (int r = 0; r < mr; r++) Kernel512x1(a + r * KPairs, KPairs, b, target + r * PanelWidth);
                    }
                    else
                    {
                        if (mr == RowBlock) Kernel256x4(a, KPairs, b, target);
                        else for (int r = 0; r < mr; r++) Kernel256x1(a + r * KPairs, KPairs, b, target + r * PanelWidth);
                    }
                }
                for (int c = 0; c < count; c++)
                {
                    int o0 = (panel + c) * PanelWidth, width = Math.Min(PanelWidth, Out - o0);
                    for (int r = 0; r < mr; r++)
                    {
                        float rowScale = rowScales[r0 + r];
                        float* target = y + (long)(r0 + r) * Out + o0;
                        int* sum = s + (c * RowBlock + r) * PanelWidth;
                        if (width == PanelWidth && Vector512.IsHardwareAccelerated)
                        {
                            // The same operations, in the same order, as Rescale: ((float)sum · rowScale) · colScale (+ bias).
                            fixed (float* colScales = &Weights.Scales[o0])
                            {
                                var v = Vector512.ConvertToSingle(Vector512.Load(sum)) * Vector512.Create(rowScale) * Vector512.Load(colScales);
                                if (_bias is not null) fixed (float* bias = &_bias[o0]) v += Vector512.Load(bias);
                                v.Store(target);
                            }
                        }
                        else
                            for (int j = 0; j < width; j++) target[j] = Rescale(sum[j], rowScale, o0 + j);
                    }
                }
            }
        }
    }

    // a: (4, kPairs) activation pairs; b0, b1: two (kPairs, 32) int16 panels; s0, s1: (4, 16) int32 sums of each.
    static unsafe void Kernel512x4x2(int* a, int kPairs, short* b0, short* b1, int* s0, int* s1)
    {
        var c0 = Vector512<int>.Zero; var c1 = Vector512<int>.Zero; var c2 = Vector512<int>.Zero; var c3 = Vector512<int>.Zero;
        var d0 = Vector512<int>.Zero; var d1 = Vector512<int>.Zero; var d2 = Vector512<int>.Zero; var d3 = Vector512<int>.Zero;
        int* a1 = a + kPairs, a2 = a1 + kPairs, a3 = a2 + kPairs;
        for (int kk = 0; kk < kPairs; kk++)
        {
            var w0 = Vector512.Load(b0 + kk * 2 * PanelWidth);
            var w1 = Vector512.Load(b1 + kk * 2 * PanelWidth);
            var x0 = Vector512.Create(a[kk]).AsInt16(); var x1 = Vector512.Create(a1[kk]).AsInt16();
            var x2 = Vector512.Create(a2[kk]).AsInt16(); var x3 = Vector512.Create(a3[kk]).AsInt16();
            c0 = Avx512BW.Add(c0, Avx512BW.MultiplyAddAdjacent(x0, w0)); d0 = Avx512BW.Add(d0, Avx512BW.MultiplyAddAdjacent(x0, w1));
            c1 = Avx512BW.Add(c1, Avx512BW.MultiplyAddAdjacent(x1, w0)); d1 = Avx512BW.Add(d1, Avx512BW.MultiplyAddAdjacent(x1, w1));
            c2 = Avx512BW.Add(c2, Avx512BW.MultiplyAddAdjacent(x2, w0)); d2 = Avx512BW.Add(d2, Avx512BW.MultiplyAddAdjacent(x2, w1));
            c3 = Avx512BW.Add(c3, Avx512BW.MultiplyAddAdjacent(x3, w0)); d3 = Avx512BW.Add(d3, Avx512BW.MultiplyAddAdjacent(x3, w1));
        }
        c0.Store(s0); c1.Store(s0 + 16); c2.Store(s0 + 32); c3.Store(s0 + 48);
        d0.Store(s1); d1.Store(s1 + 16); d2.Store(s1 + 32); d3.Store(s1 + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    float Rescale(int sum, float rowScale, int o)
    {
        float v = (float)sum * rowScale * Weights.Scales[o];
        return _bias is null ? v : v + _bias[o];
    }

    // a: (4, kPairs) activation pairs (row stride kPairs int32), b: (kPairs, 32) int16 panel, s: (4, 16) int32 sums.
    static unsafe void Kernel512x4(int* a, int kPairs, short* b, int* s)
    {
        var c0 = Vector512<int>.Zero; var c1 = Vector512<int>.Zero; var c2 = Vector512<int>.Zero; var c3 = Vector512<int>.Zero;
        int* a1 = a + kPairs, a2 = a1 + kPairs, a3 = a2 + kPairs;
        for (int kk = 0; kk < kPairs; kk++)
        {
            var w = Vector512.Load(b + kk * 2 * PanelWidth);
            c0 = Avx512BW.Add(c0, Avx512BW.MultiplyAddAdjacent(Vector512.Create(a[kk]).AsInt16(), w));
            c1 = Avx512BW.Add(c1, Avx512BW.MultiplyAddAdjacent(Vector512.Create(a1[kk]).AsInt16(), w));
            c2 = Avx512BW.Add(c2, Avx512BW.MultiplyAddAdjacent(Vector512.Create(a2[kk]).AsInt16(), w));
            c3 = Avx512BW.Add(c3, Avx512BW.MultiplyAddAdjacent(Vector512.Create(a3[kk]).AsInt16(), w));
        }
        c0.Store(s); c1.Store(s + 16); c2.Store(s + 32); c3.Store(s + 48);
    }

    static unsafe void Kernel512x1(int* a, int kPairs, short* b, int* s)
    {
        var c0 = Vector512<int>.Zero;
        for (int kk = 0; kk < kPairs; kk++)
            c0 = Avx512BW.Add(c0, Avx512BW.MultiplyAddAdjacent(Vector512.Create(a[kk]).AsInt16(), Vector512.Load(b + kk * 2 * PanelWidth)));
        c0.Store(s);
    }

    static unsafe void Kernel256x4(int* a, int kPairs, short* b, int* s)
    {
        var c0 = Vector256<int>.Zero; var c1 = Vector256<int>.Zero; var c2 = Vector256<int>.Zero; var c3 = Vector256<int>.Zero;
        var d0 = Vector256<int>.Zero; var d1 = Vector256<int>.Zero; var d2 = Vector256<int>.Zero; var d3 = Vector256<int>.Zero;
        int* a1 = a + kPairs, a2 = a1 + kPairs, a3 = a2 + kPairs;
        for (int kk = 0; kk < kPairs; kk++)
        {
            var lo = Vector256.Load(b + kk * 2 * PanelWidth);
            var hi = Vector256.Load(b + kk * 2 * PanelWidth + PanelWidth);
            var x0 = Vector256.Create(a[kk]).AsInt16(); var x1 = Vector256.Create(a1[kk]).AsInt16();
            var x2 = Vector256.Create(a2[kk]).AsInt16(); var x3 = Vector256.Create(a3[kk]).AsInt16();
            c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(x0, lo)); d0 = Avx2.Add(d0, Avx2.MultiplyAddAdjacent(x0, hi));
            c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(x1, lo)); d1 = Avx2.Add(d1, Avx2.MultiplyAddAdjacent(x1, hi));
            c2 = Avx2.Add(c2, Avx2.MultiplyAddAdjacent(x2, lo)); d2 = Avx2.Add(d2, Avx2.MultiplyAddAdjacent(x2, hi));
            c3 = Avx2.Add(c3, Avx2.MultiplyAddAdjacent(x3, lo)); d3 = Avx2.Add(d3, Avx2.MultiplyAddAdjacent(x3, hi));
        }
        c0.Store(s); d0.Store(s + 8); c1.Store(s + 16); d1.Store(s + 24);
        c2.Store(s + 32); d2.Store(s + 40); c3.Store(s + 48); d3.Store(s + 56);
    }

    static unsafe void Kernel256x1(int* a, int kPairs, short* b, int* s)
    {
        var c0 = Vector256<int>.Zero; var d0 = Vector256<int>.Zero;
        for (int kk = 0; kk < kPairs; kk++)
        {
            var x0 = Vector256.Create(a[kk]).AsInt16();
            c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(x0, Vector256.Load(b + kk * 2 * PanelWidth)));
            d0 = Avx2.Add(d0, Avx2.MultiplyAddAdjacent(x0, Vector256.Load(b + kk * 2 * PanelWidth + PanelWidth)));
        }
        c0.Store(s); d0.Store(s + 8);
    }

    void CheckShapes(int xLength, int yLength, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (xLength != (long)rows * In) throw new ArgumentException($"x has {xLength} entries for ({rows}, {In}).", "x");
        if (yLength != (long)rows * Out) throw new ArgumentException($"y has {yLength} entries for ({rows}, {Out}).", "y");
    }
}
