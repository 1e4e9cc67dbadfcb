using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>
/// Element-wise add, subtract, multiply and divide with NumPy broadcasting, and scalar forms. The output is walked as
/// rows (<see cref="BroadcastPlan"/>): equal shapes are one <c>TensorPrimitives</c> call, (..., C) op (C) is one call per
/// row. Backward sums each input's gradient over the axes it was broadcast along.
/// </summary>
public static class ArithmeticOp
{
    /// <summary>a + b, broadcast. da = Σ dy, db = Σ dy (each summed over its broadcast axes).</summary>
    public static Tensor Add(this Tape tape, Tensor a, Tensor b)
    {
        if (Shapes.Equal(a.Shape, b.Shape)) return AddSameShape(tape, a, b);
        var (y, plan) = Forward<AddRow>(tape, "Add", a, b);
        tape.Record(y, () =>
        {
            var dy = y.Grad;
            Span<int> off = stackalloc int[2];
            int n = plan.RowLength;
            for (int r = 0; r < plan.Rows; r++)
            {
                plan.Offsets(r, off);
                var g = dy.Slice(r * n, n);
                if (a.RequiresGrad) AccumulateRow(a.Grad, off[0], plan.InnerStride[0], g, 1f);
                if (b.RequiresGrad) AccumulateRow(b.Grad, off[1], plan.InnerStride[1], g, 1f);
            }
        });
        return y;
    }

    /// <summary>a + b of one shape (residual connections): one flat pass each way, split across the tape's pool.</summary>
    static Tensor AddSameShape(Tape tape, Tensor a, Tensor b)
    {
        var y = tape.Output(a.Shape, tape.NeedsGrad(a, b));
        var pool = tape.Pool;
        Kernels.Elementwise.Add(a.Data, b.Data, y.Data, pool);
        tape.Record(y, () =>
        {
            var dy = y.Grad;
            if (a.RequiresGrad) { var da = a.Grad; Kernels.Elementwise.Add(da, dy, da, pool); }
            if (b.RequiresGrad) { var db = b.Grad; Kernels.Elementwise.Add(db, dy, db, pool); }
        });
        return y;
    }

    /// <summary>a − b, broadcast. da = Σ dy, db = −Σ dy.</summary>
    public static Tensor Sub(this Tape tape, Tensor a, Tensor b)
    {
        var (y, plan) = Forward<SubRow>(tape, "Sub", a, b);
        tape.Record(y, () =>
        {
            var dy = y.Grad;
            Span<int> off = stackalloc int[2];
            int n = plan.RowLength;
            for (int r = 0; r < plan.Rows; r++)
            {
                plan.Offsets(r, off);
                var g = dy.Slice(r * n, n);
                if (a.RequiresGrad) AccumulateRow(a.Grad, off[0], plan.InnerStride[0], g, 1f);
                if (b.RequiresGrad) AccumulateRow(b.Grad, off[1], plan.InnerStride[1], g, -1f);
            }
        });
        return y;
    }

    /// <summary>a · b element-wise, broadcast. da = Σ dy·b, db = Σ dy·a.</summary>
    public static Tensor Mul(this Tape tape, Tensor a, Tensor b)
    {
        var (y, plan) = Forward<MulRow>(tape, "Mul", a, b);
        tape.Record(y, () =>
        {
            var dy = y.Grad;
            Span<int> off = stackalloc int[2];
            int n = plan.RowLength;
            for (int r = 0; r < plan.Rows; r++)
            {
                plan.Offsets(r, off);
                var g = dy.Slice(r * n, n);
                if (a.RequiresGrad) AccumulateProductRow(a.Grad, off[0], plan.InnerStride[0], g, b.Data, off[1], plan.InnerStride[1]);
                if (b.RequiresGrad) AccumulateProductRow(b.Grad, off[1], plan.InnerStride[1], g, a.Data, off[0], plan.InnerStride[0]);
            }
        });
        return y;
    }

    /// <summary>a / b element-wise, broadcast. da = Σ dy / b, db = −Σ dy·y / b.</summary>
    public static Tensor Div(this Tape tape, Tensor a, Tensor b)
    {
        var (y, plan) = Forward<DivRow>(tape, "Div", a, b);
        tape.Record(y, () =>
        {
            var dy = y.Grad;
            var yv = y.Data;
            var bv = b.Data;
            Span<int> off = stackalloc int[2];
            int n = plan.RowLength, sa = plan.InnerStride[0], sb = plan.InnerStride[1];
            var da = a.RequiresGrad ? a.Grad : default;
            var db = b.RequiresGrad ? b.Grad : default;
            for (int r = 0; r < plan.Rows; r++)
            {
                plan.Offsets(r, off);
                int o = r * n;
                for (int i = 0; i < n; i++)
                {
                    float inv = 1f / bv[off[1] + i * sb];
                    float g = dy[o + i];
                    if (a.RequiresGrad) da[off[0] + i * sa] += g * inv;
                    if (b.RequiresGrad) db[off[1] + i * sb] -= g * yv[o + i] * inv;
                }
            }
        });
        return y;
    }

    /// <summary>x + c. dx = dy.</summary>
    public static Tensor AddScalar(this Tape tape, Tensor x, float c)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        TensorPrimitives.Add(x.Data, c, y.Data);
        tape.Record(y, () => TensorPrimitives.Add(x.Grad, y.Grad, x.Grad));
        return y;
    }

    /// <summary>c · x. dx = c·dy.</summary>
    public static Tensor Scale(this Tape tape, Tensor x, float c)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        TensorPrimitives.Multiply(x.Data, c, y.Data);
        tape.Record(y, () => TensorPrimitives.MultiplyAdd(y.Grad, c, x.Grad, x.Grad));
        return y;
    }

    /// <summary>−x (an overload composed from <see cref="Scale"/>).</summary>
    public static Tensor Neg(this Tape tape, Tensor x) => tape.Scale(x, -1f);

    // ---- forward: one row at a time, each operand a row or a repeated value ----------------------------------------

    static (Tensor Y, BroadcastPlan Plan) Forward<TOp>(Tape tape, string op, Tensor a, Tensor b) where TOp : IBinaryRow
    {
        var plan = new BroadcastPlan(op, a.Shape, b.Shape);
        var y = tape.Output(plan.OutputShape, tape.NeedsGrad(a, b));
        ReadOnlySpan<float> av = a.Data, bv = b.Data;
        var yv = y.Data;
        int n = plan.RowLength, sa = plan.InnerStride[0], sb = plan.InnerStride[1];
        Span<int> off = stackalloc int[2];
        for (int r = 0; r < plan.Rows; r++)
        {
            plan.Offsets(r, off);
            var dst = yv.Slice(r * n, n);
            if (sa == 1 && sb == 1) TOp.Rows(av.Slice(off[0], n), bv.Slice(off[1], n), dst);
            else if (sa == 1) TOp.RowScalar(av.Slice(off[0], n), bv[off[1]], dst);
            else if (sb == 1) TOp.ScalarRow(av[off[0]], bv.Slice(off[1], n), dst);
            else dst.Fill(TOp.Scalar(av[off[0]], bv[off[1]]));
        }
        return (y, plan);
    }

    interface IBinaryRow
    {
        static abstract void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);
        static abstract void RowScalar(ReadOnlySpan<float> a, float b, Span<float> y);
        static abstract void ScalarRow(float a, ReadOnlySpan<float> b, Span<float> y);
        static abstract float Scalar(float a, float b);
    }

    readonly struct AddRow : IBinaryRow
    {
        public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(a, b, y);
        public static void RowScalar(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Add(a, b, y);
        public static void ScalarRow(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(b, a, y);
        public static float Scalar(float a, float b) => a + b;
    }

    readonly struct SubRow : IBinaryRow
    {
        public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
        public static void RowScalar(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
        public static void ScalarRow(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
        public static float Scalar(float a, float b) => a - b;
    }

    readonly struct MulRow : IBinaryRow
    {
        public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
        public static void RowScalar(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
        public static void ScalarRow(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(b, a, y);
        public static float Scalar(float a, float b) => a * b;
    }

    readonly struct DivRow : IBinaryRow
    {
        public static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
        public static void RowScalar(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
        public static void ScalarRow(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
        public static float Scalar(float a, float b) => a / b;
    }

    // ---- backward: add a row's contribution into a gradient that is a row (stride 1) or one value (stride 0) ----------

    /// <summary>grad[offset ..] += sign·g, or grad[offset] += sign·Σ g when the operand was broadcast along the row.</summary>
    internal static void AccumulateRow(Span<float> grad, int offset, int stride, ReadOnlySpan<float> g, float sign)
    {
        if (stride == 1)
        {
            var dst = grad.Slice(offset, g.Length);
            if (sign == 1f) TensorPrimitives.Add(dst, g, dst);
            else TensorPrimitives.MultiplyAdd(g, sign, dst, dst);
        }
        else grad[offset] += sign * TensorPrimitives.Sum(g);
    }

    /// <summary>grad += g·other, where grad and other are each a row (stride 1) or one value (stride 0).</summary>
    static void AccumulateProductRow(Span<float> grad, int offset, int stride, ReadOnlySpan<float> g,
        ReadOnlySpan<float> other, int otherOffset, int otherStride)
    {
        int n = g.Length;
        if (stride == 1)
        {
            var dst = grad.Slice(offset, n);
            if (otherStride == 1) TensorPrimitives.FusedMultiplyAdd(g, other.Slice(otherOffset, n), dst, dst);
            else TensorPrimitives.MultiplyAdd(g, other[otherOffset], dst, dst);
        }
        else if (otherStride == 1) grad[offset] += TensorPrimitives.Dot(g, other.Slice(otherOffset, n));
        else grad[offset] += other[otherOffset] * TensorPrimitives.Sum(g);
    }
}
