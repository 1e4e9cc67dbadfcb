using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace RewardKit.Tensors;

/// <summary>Embedding lookup: rows of a table by id; the backward scatter-adds into the table.</summary>
public static class EmbeddingOp
{
    /// <summary>weight (V, C), ids of shape <paramref name="idsShape"/> → idsShape + (C). Throws naming the position of an id outside [0, V).</summary>
    public static Tensor Embedding(this Tape tape, Tensor weight, int[] ids, int[] idsShape)
    {
        const string op = "Embedding";
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(idsShape);
        Shapes.RequireRank(op, weight, 2, "weight");
        int n = Shapes.Product(Shapes.Validate(idsShape));
        if (ids.Length != n)
            throw new ArgumentException($"{op}: {ids.Length} ids do not fill shape {Shapes.Format(idsShape)} ({n} ids).");
        int vocab = weight.Shape[0], c = weight.Shape[1];
        for (int i = 0; i < n; i++)
            if ((uint)ids[i] >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(ids),
                    $"{op}: id {ids[i]} at position {FormatPosition(i, idsShape)} is outside [0, {vocab}) for weight {weight.Describe()}.");

        var shape = new int[idsShape.Length + 1];
        idsShape.CopyTo(shape, 0);
        shape[^1] = c;
        var y = tape.Output(shape, tape.NeedsGrad(weight));
        var w = weight.Data;
        var yd = y.Data;
        for (int i = 0; i < n; i++) w.Slice(ids[i] * c, c).CopyTo(yd.Slice(i * c, c));
        if (!tape.NeedsGrad(weight)) return y;
        // The backward reads the ids again: keep a copy so a caller reusing its buffer cannot change them. The copy's bits
        // live in the arena (an int in each float slot), so a step leaves no id array behind for the garbage collector.
        var saved = tape.Empty([n]);
        ids.AsSpan(0, n).CopyTo(MemoryMarshal.Cast<float, int>(saved.Data));
        tape.Record(y, () =>
        {
            var dw = weight.Grad;
            var dy = y.Grad;
            ReadOnlySpan<int> captured = MemoryMarshal.Cast<float, int>(saved.Data);
            for (int i = 0; i < n; i++)
            {
                var row = dw.Slice(captured[i] * c, c);
                TensorPrimitives.Add(row, dy.Slice(i * c, c), row);
            }
            tape.Release(saved);
        });
        return y;
    }

    /// <summary>"[b, t]" for flat index <paramref name="flat"/> in <paramref name="shape"/>.</summary>
    internal static string FormatPosition(int flat, int[] shape)
    {
        if (shape.Length == 0) return "[]";
        var index = new int[shape.Length];
        for (int a = shape.Length - 1; a >= 0; a--)
        {
            index[a] = shape[a] == 0 ? 0 : flat % shape[a];
            flat = shape[a] == 0 ? 0 : flat / shape[a];
        }
        return "[" + string.Join(", ", index) + "]";
    }
}
