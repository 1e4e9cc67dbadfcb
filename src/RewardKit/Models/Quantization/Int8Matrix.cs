using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RewardKit.Models.Quantization;

/// <summary>
/// A weight matrix W (Out, In) stored as int8 with one symmetric scale per output row (per output channel):
/// W[o, i] ≈ Scales[o] · Values[o, i], Scales[o] = max_i |W[o, i]| / 127. Engine-free: the model code hands its
/// Linear weights in as row-major spans and calls <see cref="MatVec"/> / <see cref="Gemm"/> instead of the float kernel.
/// </summary>
public sealed class Int8Matrix
{
    /// <summary>Wraps already-quantised values; <paramref name="values"/> is (Out, In) row-major.</summary>
    public Int8Matrix(int rows, int columns, sbyte[] values, float[] scales)
    {
        if (rows < 0 || columns < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"shape ({rows}, {columns}) must be non-negative.");
        if (values.Length != (long)rows * columns) throw new ArgumentException($"values has {values.Length} entries for a ({rows}, {columns}) matrix.", nameof(values));
        if (scales.Length != rows) throw new ArgumentException($"scales has {scales.Length} entries for {rows} rows.", nameof(scales));
        Rows = rows; Columns = columns; Values = values; Scales = scales;
    }

    /// <summary>Out: output channels.</summary>
    public int Rows { get; }

    /// <summary>In: input features.</summary>
    public int Columns { get; }

    /// <summary>(Out, In) int8 values, row-major.</summary>
    public sbyte[] Values { get; }

    /// <summary>(Out) scale per row.</summary>
    public float[] Scales { get; }

    /// <summary>Bytes held (values plus scales), against 4 · Out · In for float32.</summary>
    public long Bytes => Values.LongLength + 4L * Scales.Length;

    /// <summary>Quantises <paramref name="weights"/> (Out, In) row-major, symmetric per row, rounding to nearest.</summary>
    public static Int8Matrix Quantize(ReadOnlySpan<float> weights, int rows, int columns)
    {
        if (weights.Length != (long)rows * columns) throw new ArgumentException($"weights has {weights.Length} entries for a ({rows}, {columns}) matrix.", nameof(weights));
        var values = new sbyte[weights.Length];
        var scales = new float[rows];
        for (var o = 0; o < rows; o++)
        {
            var row = weights.Slice(o * columns, columns);
            var max = 0f;
            foreach (var w in row)
            {
                if (!float.IsFinite(w)) throw new ArgumentException($"weights[{o}, ...] holds {w}; only finite weights can be quantised.", nameof(weights));
                max = Math.Max(max, Math.Abs(w));
            }
            var scale = max / 127f;
            scales[o] = scale;
            if (scale == 0) continue;
            var inverse = 1f / scale;
            var target = values.AsSpan(o * columns, columns);
            for (var i = 0; i < columns; i++) target[i] = (sbyte)Math.Clamp(MathF.Round(row[i] * inverse), -127, 127);
        }
        return new Int8Matrix(rows, columns, values, scales);
    }

    /// <summary>W ≈ Scales[o] · Values[o, i] as float32 (Out, In).</summary>
    public float[] Dequantize()
    {
        var w = new float[Values.Length];
        for (var o = 0; o < Rows; o++)
            for (var i = 0; i < Columns; i++)
                w[o * Columns + i] = Scales[o] * Values[o * Columns + i];
        return w;
    }

    /// <summary>Reference y = W x with W dequantised on the fly, in double. x (In), y (Out).</summary>
    public void MatVecReference(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckShapes(x.Length, y.Length);
        for (var o = 0; o < Rows; o++)
        {
            double sum = 0;
            for (var i = 0; i < Columns; i++) sum += (double)Values[o * Columns + i] * x[i];
            y[o] = (float)(sum * Scales[o]);
        }
    }

    /// <summary>
    /// y = W x with the int8 rows widened and multiplied in float SIMD (x stays float, so the only error is the weights').
    /// x (In), y (Out).
    /// </summary>
    public void MatVec(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckShapes(x.Length, y.Length);
        for (var o = 0; o < Rows; o++)
            y[o] = Dot(Values.AsSpan(o * Columns, Columns), x) * Scales[o];
    }

    /// <summary>Y = X Wᵀ: X (B, In), Y (B, Out), both row-major (a Linear layer without bias).</summary>
    public void Gemm(ReadOnlySpan<float> x, int batch, Span<float> y)
    {
        if (x.Length != (long)batch * Columns) throw new ArgumentException($"x has {x.Length} entries for ({batch}, {Columns}).", nameof(x));
        if (y.Length != (long)batch * Rows) throw new ArgumentException($"y has {y.Length} entries for ({batch}, {Rows}).", nameof(y));
        for (var b = 0; b < batch; b++) MatVec(x.Slice(b * Columns, Columns), y.Slice(b * Rows, Rows));
    }

    void CheckShapes(int xLength, int yLength)
    {
        if (xLength != Columns) throw new ArgumentException($"x has {xLength} entries; the matrix has {Columns} columns.", "x");
        if (yLength != Rows) throw new ArgumentException($"y has {yLength} entries; the matrix has {Rows} rows.", "y");
    }

    static float Dot(ReadOnlySpan<sbyte> w, ReadOnlySpan<float> x)
    {
        var i = 0;
        var sum = 0f;
        if (Vector256.IsHardwareAccelerated && w.Length >= 16)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            ref var wr = ref MemoryMarshal.GetReference(w);
            ref var xr = ref MemoryMarshal.GetReference(x);
            for (; i <= w.Length - 16; i += 16)
            {
                var bytes = Vector128.LoadUnsafe(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref wr, i))).AsSByte();
                var (lo, hi) = Vector128.Widen(bytes); // 16 sbyte -> 2 x 8 short
                var w0 = Vector256.ConvertToSingle(Vector256.Create(Vector128.WidenLower(lo), Vector128.WidenUpper(lo)));
                var w1 = Vector256.ConvertToSingle(Vector256.Create(Vector128.WidenLower(hi), Vector128.WidenUpper(hi)));
                acc0 = Vector256.FusedMultiplyAdd(w0, Vector256.LoadUnsafe(ref Unsafe.Add(ref xr, i)), acc0);
                acc1 = Vector256.FusedMultiplyAdd(w1, Vector256.LoadUnsafe(ref Unsafe.Add(ref xr, i + 8)), acc1);
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < w.Length; i++) sum += w[i] * x[i];
        return sum;
    }
}
