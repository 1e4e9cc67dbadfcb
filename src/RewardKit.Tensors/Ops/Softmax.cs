using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>Fused softmax and log-softmax over the last axis.</summary>
public static class SoftmaxOp
{
    /// <summary>softmax over the last axis.</summary>
    public static Tensor Softmax(this Tape tape, Tensor x)
    {
        Shapes.Require(x.Rank >= 1, "Softmax", "x needs at least one axis", x);
        int c = x.Dim(-1), rows = Shapes.Product(x.Shape.AsSpan(0, x.Rank - 1));
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        for (int r = 0; r < rows; r++) SoftmaxRow(x.Data.Slice(r * c, c), y.Data.Slice(r * c, c));
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            var dy = y.Grad;
            var yv = y.Data;
            for (int r = 0; r < rows; r++)
            {
                var yr = yv.Slice(r * c, c);
                var dyr = dy.Slice(r * c, c);
                var dxr = dx.Slice(r * c, c);
                // dx += y ⊙ (dy − ⟨dy, y⟩)
                float dot = TensorPrimitives.Dot(dyr, yr);
                for (int i = 0; i < c; i++) dxr[i] += yr[i] * (dyr[i] - dot);
            }
        });
        return y;
    }

    /// <summary>log-softmax over the last axis.</summary>
    public static Tensor LogSoftmax(this Tape tape, Tensor x)
    {
        Shapes.Require(x.Rank >= 1, "LogSoftmax", "x needs at least one axis", x);
        int c = x.Dim(-1), rows = Shapes.Product(x.Shape.AsSpan(0, x.Rank - 1));
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Data.Slice(r * c, c);
            TensorPrimitives.Subtract(xr, LogSumExp(xr), y.Data.Slice(r * c, c));
        }
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            var dy = y.Grad;
            var yv = y.Data;
            for (int r = 0; r < rows; r++)
            {
                var yr = yv.Slice(r * c, c);
                var dyr = dy.Slice(r * c, c);
                var dxr = dx.Slice(r * c, c);
                // dx += dy − softmax ⊙ Σ dy
                float sum = TensorPrimitives.Sum(dyr);
                for (int i = 0; i < c; i++) dxr[i] += dyr[i] - MathF.Exp(yr[i]) * sum;
            }
        });
        return y;
    }

    /// <summary>Stable softmax of one row (max subtracted).</summary>
    internal static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.IsEmpty) return;
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        TensorPrimitives.Multiply(y, 1f / TensorPrimitives.Sum(y), y);
    }

    /// <summary>log Σ exp(x), stable (max subtracted, sum in double).</summary>
    internal static float LogSumExp(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return float.NegativeInfinity;
        float max = TensorPrimitives.Max(x);
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += MathF.Exp(x[i] - max);
        return max + (float)Math.Log(sum);
    }
}
