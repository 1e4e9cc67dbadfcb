using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>log σ(x) = −softplus(−x), numerically stable for |x| up to 1e4 (the Bradley-Terry loss).</summary>
public static class LogSigmoidOp
{
    /// <summary>
    /// y = log σ(x) = min(x, 0) − log1p(e^−|x|): exactly x for very negative x, −e^−x (not 0 from 1 − 1) for large x.
    /// dx = dy·σ(−x), computed without cancellation.
    /// </summary>
    public static Tensor LogSigmoid(this Tape tape, Tensor x)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        Activations.LogSigmoid(x.Data, y.Data);
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            ReadOnlySpan<float> dy = y.Grad, xv = x.Data;
            for (int i = 0; i < dx.Length; i++) dx[i] += dy[i] * (float)Activations.Sigmoid(-(double)xv[i]);
        });
        return y;
    }
}
