namespace RewardKit.Tensors;

/// <summary>Selects a where the condition is non-zero, else b (condition, a and b broadcast together); the condition takes no gradient.</summary>
public static class WhereOp
{
    /// <summary>condition ? a : b; da = dy where the condition holds, db = dy elsewhere (each summed over broadcast axes).</summary>
    public static Tensor Where(this Tape tape, Tensor condition, Tensor a, Tensor b)
    {
        var plan = new BroadcastPlan("Where", condition.Shape, a.Shape, b.Shape);
        var y = tape.Output(plan.OutputShape, tape.NeedsGrad(a, b));
        int n = plan.RowLength;
        int sc = plan.InnerStride[0], sa = plan.InnerStride[1], sb = plan.InnerStride[2];
        Span<int> off = stackalloc int[3];
        ReadOnlySpan<float> cv = condition.Data, av = a.Data, bv = b.Data;
        var yv = y.Data;
        for (int r = 0; r < plan.Rows; r++)
        {
            plan.Offsets(r, off);
            for (int i = 0; i < n; i++)
                yv[r * n + i] = cv[off[0] + i * sc] != 0 ? av[off[1] + i * sa] : bv[off[2] + i * sb];
        }
        tape.Record(y, () =>
        {
            var dy = y.Grad;
            ReadOnlySpan<float> c = condition.Data;
            var da = a.RequiresGrad ? a.Grad : default;
            var db = b.RequiresGrad ? b.Grad : default;
            Span<int> o = stackalloc int[3];
            for (int r = 0; r < plan.Rows; r++)
            {
                plan.Offsets(r, o);
                for (int i = 0; i < n; i++)
                {
                    float g = dy[r * n + i];
                    if (c[o[0] + i * sc] != 0) { if (a.RequiresGrad) da[o[1] + i * sa] += g; }
                    else if (b.RequiresGrad) db[o[2] + i * sb] += g;
                }
            }
        });
        return y;
    }
}
