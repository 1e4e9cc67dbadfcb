using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>softplus(x) = log(1 + e^x), numerically stable for |x| up to 1e4.</summary>
public static class SoftplusOp
{
    /// <summary>y = max(x, 0) + log1p(e^−|x|): exactly x for large x, e^x for very negative x; dx = dy·σ(x).</summary>
    public static Tensor Softplus(this Tape tape, Tensor x)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        Activations.Softplus(x.Data, y.Data);
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            ReadOnlySpan<float> dy = y.Grad, xv = x.Data;
            for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * (float)Activations.Sigmoid(xv[i]);
        });
        return y;
    }
}
