namespace RewardKit.Tensors;

/// <summary>tanh element-wise. The pattern every op follows: check, compute the output, record the backward right below.</summary>
public static class TanhOp
{
    /// <summary>y = tanh(x); dy/dx = 1 − y².</summary>
    public static Tensor Tanh(this Tape tape, Tensor x)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        System.Numerics.Tensors.TensorPrimitives.Tanh(x.Data, y.Data);
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            var dy = y.Grad;
            var yv = y.Data;
            for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * (1 - yv[i] * yv[i]);
        });
        return y;
    }
}
