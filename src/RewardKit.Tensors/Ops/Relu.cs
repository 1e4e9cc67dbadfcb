using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>max(0, x) element-wise.</summary>
public static class ReluOp
{
    /// <summary>y = max(0, x); dx = dy where x &gt; 0, else 0 (0 at x = 0, as in PyTorch).</summary>
    public static Tensor Relu(this Tape tape, Tensor x)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        TensorPrimitives.Max(x.Data, 0f, y.Data);
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            ReadOnlySpan<float> dy = y.Grad, xv = x.Data;
            for (int i = 0; i < dx.Length; i++) if (xv[i] > 0) dx[i] += dy[i];
        });
        return y;
    }
}
