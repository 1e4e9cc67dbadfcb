using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>e^x element-wise.</summary>
public static class ExpOp
{
    /// <summary>y = e^x; dx = dy·y.</summary>
    public static Tensor Exp(this Tape tape, Tensor x)
    {
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        TensorPrimitives.Exp(x.Data, y.Data);
        tape.Record(y, () => TensorPrimitives.FusedMultiplyAdd(y.Grad, y.Data, x.Grad, x.Grad));
        return y;
    }
}
