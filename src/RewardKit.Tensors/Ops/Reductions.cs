using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>
/// Sum, mean and max over all elements or one axis. A reduction over axis k views x as (outer, n, inner) with n the
/// size of axis k; the output is (outer, inner), with the axis kept as size 1 when keepDim.
/// </summary>
public static class ReductionsOp
{
    /// <summary>The sum of all elements, shape (). dx = dy everywhere.</summary>
    public static Tensor Sum(this Tape tape, Tensor x) => SumAll(tape, x, 1f);

    /// <summary>The sum over <paramref name="axis"/> (negative counts from the end); the axis is kept with size 1 when <paramref name="keepDim"/>.</summary>
    public static Tensor Sum(this Tape tape, Tensor x, int axis, bool keepDim = false) => SumAxis(tape, x, axis, keepDim, "Sum", mean: false);

    /// <summary>The mean of all elements, shape (). An empty tensor's mean is NaN, as in PyTorch.</summary>
    public static Tensor Mean(this Tape tape, Tensor x) => SumAll(tape, x, 1f / x.Length);

    /// <summary>The mean over <paramref name="axis"/>.</summary>
    public static Tensor Mean(this Tape tape, Tensor x, int axis, bool keepDim = false) => SumAxis(tape, x, axis, keepDim, "Mean", mean: true);

    /// <summary>The maximum over <paramref name="axis"/>; the gradient flows to the first maximal element.</summary>
    public static Tensor Max(this Tape tape, Tensor x, int axis, bool keepDim = false)
    {
        var (outer, n, inner, shape) = Split("Max", x, axis, keepDim);
        if (n == 0) throw new ArgumentException($"Max: axis {axis} of {Shapes.Format(x.Shape)} is empty; the maximum of nothing is undefined.");
        var y = tape.Output(shape, tape.NeedsGrad(x));
        ReadOnlySpan<float> xv = x.Data;
        var yv = y.Data;
        for (int o = 0; o < outer; o++)
        {
            var dst = yv.Slice(o * inner, inner);
            if (inner == 1) { dst[0] = TensorPrimitives.Max(xv.Slice(o * n, n)); continue; }
            xv.Slice(o * n * inner, inner).CopyTo(dst);
            for (int k = 1; k < n; k++) TensorPrimitives.Max(dst, xv.Slice((o * n + k) * inner, inner), dst);
        }
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            var dy = y.Grad;
            ReadOnlySpan<float> xs = x.Data, ys = y.Data;
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < inner; j++)
                {
                    float m = ys[o * inner + j];
                    int first = 0; // the first index equal to the maximum (or the NaN that made it)
                    for (int k = 0; k < n; k++)
                    {
                        float v = xs[(o * n + k) * inner + j];
                        if (v == m || (float.IsNaN(m) && float.IsNaN(v))) { first = k; break; }
                    }
                    dx[(o * n + first) * inner + j] += dy[o * inner + j];
                }
        });
        return y;
    }

    static Tensor SumAll(Tape tape, Tensor x, float scale)
    {
        var y = tape.Output([], tape.NeedsGrad(x));
        y.Data[0] = x.Length == 0 && scale != 1f ? float.NaN : (float)(SumDouble(x.Data) * scale);
        tape.Record(y, () => TensorPrimitives.Add(x.Grad, y.Grad[0] * scale, x.Grad));
        return y;
    }

    /// <summary>A float sum accumulated in double over blocks (TensorPrimitives within a block), for long inputs.</summary>
    internal static double SumDouble(ReadOnlySpan<float> x)
    {
        const int Block = 4096;
        double total = 0;
        for (int i = 0; i < x.Length; i += Block) total += TensorPrimitives.Sum(x.Slice(i, Math.Min(Block, x.Length - i)));
        return total;
    }

    static Tensor SumAxis(Tape tape, Tensor x, int axis, bool keepDim, string op, bool mean)
    {
        var (outer, n, inner, shape) = Split(op, x, axis, keepDim);
        float scale = mean ? 1f / n : 1f;
        var y = tape.Output(shape, tape.NeedsGrad(x));
        ReadOnlySpan<float> xv = x.Data;
        var yv = y.Data;
        for (int o = 0; o < outer; o++)
        {
            var dst = yv.Slice(o * inner, inner);
            if (inner == 1) { dst[0] = TensorPrimitives.Sum(xv.Slice(o * n, n)) * scale; continue; }
            dst.Clear();
            for (int k = 0; k < n; k++) TensorPrimitives.Add(dst, xv.Slice((o * n + k) * inner, inner), dst);
            if (mean) TensorPrimitives.Multiply(dst, scale, dst);
        }
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            ReadOnlySpan<float> dy = y.Grad;
            for (int o = 0; o < outer; o++)
            {
                if (inner == 1) { var row = dx.Slice(o * n, n); TensorPrimitives.Add(row, dy[o] * scale, row); continue; }
                var g = dy.Slice(o * inner, inner);
                for (int k = 0; k < n; k++)
                {
                    var row = dx.Slice((o * n + k) * inner, inner);
                    TensorPrimitives.MultiplyAdd(g, scale, row, row);
                }
            }
        });
        return y;
    }

    static (int Outer, int N, int Inner, int[] Shape) Split(string op, Tensor x, int axis, bool keepDim)
    {
        int a = axis < 0 ? axis + x.Rank : axis;
        if (a < 0 || a >= x.Rank)
            throw new ArgumentException($"{op}: axis {axis} is outside shape {Shapes.Format(x.Shape)} (rank {x.Rank}).");
        int outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= x.Shape[d];
        for (int d = a + 1; d < x.Rank; d++) inner *= x.Shape[d];
        var shape = keepDim
            ? x.Shape.Select((s, d) => d == a ? 1 : s).ToArray()
            : x.Shape.Where((_, d) => d != a).ToArray();
        return (outer, x.Shape[a], inner, shape);
    }
}
