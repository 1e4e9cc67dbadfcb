namespace RewardKit.Tensors;

/// <summary>Concatenation along an axis and its inverse, split. Both view tensors as (outer, size along axis · inner) blocks.</summary>
public static class ConcatOp
{
    /// <summary>Joins tensors whose shapes agree except along <paramref name="axis"/>; each part's gradient is its block of dy.</summary>
    public static Tensor Concat(this Tape tape, IReadOnlyList<Tensor> parts, int axis)
    {
        if (parts.Count == 0) throw new ArgumentException("Concat: needs at least one tensor.");
        var first = parts[0];
        int a = axis < 0 ? axis + first.Rank : axis;
        if (a < 0 || a >= first.Rank) throw new ArgumentException($"Concat: axis {axis} is outside shape {Shapes.Format(first.Shape)}.");
        int total = 0;
        bool needsGrad = false;
        foreach (var p in parts)
        {
            bool same = p.Rank == first.Rank;
            for (int d = 0; same && d < p.Rank; d++) same = d == a || p.Shape[d] == first.Shape[d];
            if (!same) throw new ArgumentException($"Concat: shapes {Shapes.Format(first.Shape)} and {Shapes.Format(p.Shape)} differ outside axis {axis}.");
            total += p.Shape[a];
            needsGrad |= tape.NeedsGrad(p);
        }
        var shape = (int[])first.Shape.Clone();
        shape[a] = total;
        int outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= shape[d];
        for (int d = a + 1; d < shape.Length; d++) inner *= shape[d];
        var y = tape.Output(shape, needsGrad);
        var yv = y.Data;
        int row = total * inner, start = 0;
        foreach (var p in parts)
        {
            int block = p.Shape[a] * inner;
            for (int o = 0; o < outer; o++) p.Data.Slice(o * block, block).CopyTo(yv.Slice(o * row + start, block));
            start += block;
        }
        tape.Record(y, () =>
        {
            ReadOnlySpan<float> dy = y.Grad;
            int s = 0;
            foreach (var p in parts)
            {
                int block = p.Shape[a] * inner;
                if (p.RequiresGrad)
                {
                    var dp = p.Grad;
                    for (int o = 0; o < outer; o++)
                    {
                        var dst = dp.Slice(o * block, block);
                        System.Numerics.Tensors.TensorPrimitives.Add(dst, dy.Slice(o * row + s, block), dst);
                    }
                }
                s += block;
            }
        });
        return y;
    }

    /// <summary>Splits along <paramref name="axis"/> into parts of the given sizes (which sum to that axis).</summary>
    public static Tensor[] Split(this Tape tape, Tensor x, int[] sizes, int axis)
    {
        int a = axis < 0 ? axis + x.Rank : axis;
        if (a < 0 || a >= x.Rank) throw new ArgumentException($"Split: axis {axis} is outside shape {Shapes.Format(x.Shape)}.");
        if (sizes.Any(s => s < 0) || sizes.Sum() != x.Shape[a])
            throw new ArgumentException($"Split: sizes ({string.Join(", ", sizes)}) must be non-negative and sum to axis {axis} of {Shapes.Format(x.Shape)}.");
        int outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= x.Shape[d];
        for (int d = a + 1; d < x.Rank; d++) inner *= x.Shape[d];
        int row = x.Shape[a] * inner, start = 0;
        var result = new Tensor[sizes.Length];
        for (int k = 0; k < sizes.Length; k++)
        {
            var shape = (int[])x.Shape.Clone();
            shape[a] = sizes[k];
            var y = tape.Output(shape, tape.NeedsGrad(x));
            int block = sizes[k] * inner, s = start;
            for (int o = 0; o < outer; o++) x.Data.Slice(o * row + s, block).CopyTo(y.Data.Slice(o * block, block));
            tape.Record(y, () =>
            {
                var dx = x.Grad;
                ReadOnlySpan<float> dy = y.Grad;
                for (int o = 0; o < outer; o++)
                {
                    var dst = dx.Slice(o * row + s, block);
                    System.Numerics.Tensors.TensorPrimitives.Add(dst, dy.Slice(o * block, block), dst);
                }
            });
            result[k] = y;
            start += block;
        }
        return result;
    }
}
