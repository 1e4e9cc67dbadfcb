using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>The logistic function σ(x) = 1 / (1 + e^−x), stable for large |x|.</summary>
public static class SigmoidOp
{
    /// <summary>y = σ(x) (e^−x overflowing to +∞ gives exactly 0, never NaN); dx = dy·y·(1 − y).</summary>
    public static Tensor Sigmoid(this Tape tape, Tensor x)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        TensorPrimitives.Sigmoid(x.Data, y.Data);
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            ReadOnlySpan<float> dy = y.Grad, yv = y.Data;
            for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * yv[i] * (1 - yv[i]);
        });
        return y;
    }
}
