using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>Natural logarithm element-wise.</summary>
public static class LogOp
{
    /// <summary>y = ln x (−∞ at 0, NaN below, as in PyTorch); dx = dy / x.</summary>
    public static Tensor Log(this Tape tape, Tensor x)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        TensorPrimitives.Log(x.Data, y.Data);
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            ReadOnlySpan<float> dy = y.Grad, xv = x.Data;
            for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] / xv[i];
        });
        return y;
    }
}
