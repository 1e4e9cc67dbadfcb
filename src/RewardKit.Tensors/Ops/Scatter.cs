using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>Places rows at given indices of a zero tensor (the inverse of <see cref="GatherOp.GatherRows"/>); the backward gathers.</summary>
public static class ScatterOp
{
    /// <summary>
    /// x (N, ...), indices (N) in [0, <paramref name="rows"/>) → (rows, ...): y[indices[i]] += x[i], zero elsewhere
    /// (e.g. per-token values of packed response tokens laid out into a padded (B·R) grid).
    /// </summary>
    public static Tensor ScatterRows(this Tape tape, Tensor x, int[] indices, int rows)
    {
        const string op = "ScatterRows";
        ArgumentNullException.ThrowIfNull(indices);
        Shapes.Require(x.Rank >= 1, op, "x needs at least one axis", x);
        int n = x.Shape[0];
        if (indices.Length != n)
            throw new ArgumentException($"{op}: {indices.Length} indices for x of shape {Shapes.Format(x.Shape)} (need {n}).");
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        for (int i = 0; i < n; i++)
            if ((uint)indices[i] >= (uint)rows)
                throw new ArgumentOutOfRangeException(nameof(indices), $"{op}: index {indices[i]} at position {i} is outside [0, {rows}).");
        int width = n == 0 ? Shapes.Product(x.Shape.AsSpan(1)) : x.Length / n;
        var shape = (int[])x.Shape.Clone();
        shape[0] = rows;
        var y = tape.Output(shape, tape.NeedsGrad(x));
        y.Data.Clear();
        for (int i = 0; i < n; i++)
        {
            var row = y.Data.Slice(indices[i] * width, width);
            TensorPrimitives.Add(row, x.Data.Slice(i * width, width), row);
        }
        var captured = tape.NeedsGrad(x) ? (int[])indices.Clone() : indices;
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            var dy = y.Grad;
            for (int i = 0; i < captured.Length; i++)
            {
                var row = dx.Slice(i * width, width);
                TensorPrimitives.Add(row, dy.Slice(captured[i] * width, width), row);
            }
        });
        return y;
    }
}
