using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>Gathers rows along the first axis by index (reads the reward at the last real token); the backward scatter-adds.</summary>
public static class GatherOp
{
    /// <summary>x (N, ...), indices (M) in [0, N) → (M, ...).</summary>
    public static Tensor GatherRows(this Tape tape, Tensor x, int[] indices)
    {
        const string op = "GatherRows";
        ArgumentNullException.ThrowIfNull(indices);
        Shapes.Require(x.Rank >= 1, op, "x needs at least one axis", x);
        int rows = x.Shape[0];
        int width = rows == 0 ? Shapes.Product(x.Shape.AsSpan(1)) : x.Length / rows;
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)rows)
                throw new ArgumentOutOfRangeException(nameof(indices),
                    $"{op}: index {indices[i]} at position {i} is outside [0, {rows}) for x of shape {Shapes.Format(x.Shape)}.");
        var shape = (int[])x.Shape.Clone();
        shape[0] = indices.Length;
        var y = tape.Output(shape, tape.NeedsGrad(x));
        var xd = x.Data;
        var yd = y.Data;
        for (int i = 0; i < indices.Length; i++) xd.Slice(indices[i] * width, width).CopyTo(yd.Slice(i * width, width));
        var captured = tape.NeedsGrad(x) ? (int[])indices.Clone() : indices;
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            var dy = y.Grad;
            for (int i = 0; i < captured.Length; i++)
            {
                var row = dx.Slice(captured[i] * width, width);
                TensorPrimitives.Add(row, dy.Slice(i * width, width), row);
            }
        });
        return y;
    }
}
