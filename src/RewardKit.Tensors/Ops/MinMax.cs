namespace RewardKit.Tensors;

/// <summary>Element-wise minimum and maximum with broadcasting (PPO clipping); where a == b the gradient is split evenly, as in PyTorch.</summary>
public static class MinMaxOp
{
    /// <summary>min(a, b), broadcast.</summary>
    public static Tensor Minimum(this Tape tape, Tensor a, Tensor b) => Select(tape, "Minimum", a, b, takeLarger: false);

    /// <summary>max(a, b), broadcast.</summary>
    public static Tensor Maximum(this Tape tape, Tensor a, Tensor b) => Select(tape, "Maximum", a, b, takeLarger: true);

    static Tensor Select(Tape tape, string op, Tensor a, Tensor b, bool takeLarger)
    {
        var plan = new BroadcastPlan(op, a.Shape, b.Shape);
        var y = tape.Output(plan.OutputShape, tape.NeedsGrad(a, b));
        int n = plan.RowLength, sa = plan.InnerStride[0], sb = plan.InnerStride[1];
        Span<int> off = stackalloc int[2];
        ReadOnlySpan<float> av = a.Data, bv = b.Data;
        var yv = y.Data;
        for (int r = 0; r < plan.Rows; r++)
        {
            plan.Offsets(r, off);
            for (int i = 0; i < n; i++)
            {
                float x1 = av[off[0] + i * sa], x2 = bv[off[1] + i * sb];
                yv[r * n + i] = takeLarger ? MathF.Max(x1, x2) : MathF.Min(x1, x2);
            }
        }
        tape.Record(y, () =>
        {
            var dy = y.Grad;
            ReadOnlySpan<float> ax = a.Data, bx = b.Data;
            var da = a.RequiresGrad ? a.Grad : default;
            var db = b.RequiresGrad ? b.Grad : default;
            Span<int> o = stackalloc int[2];
            for (int r = 0; r < plan.Rows; r++)
            {
                plan.Offsets(r, o);
                for (int i = 0; i < n; i++)
                {
                    int ia = o[0] + i * sa, ib = o[1] + i * sb;
                    float g = dy[r * n + i];
                    float shareA = ax[ia] == bx[ib] ? 0.5f : (ax[ia] > bx[ib]) == takeLarger ? 1f : 0f;
                    if (a.RequiresGrad) da[ia] += g * shareA;
                    if (b.RequiresGrad) db[ib] += g * (1 - shareA);
                }
            }
        });
        return y;
    }
}
