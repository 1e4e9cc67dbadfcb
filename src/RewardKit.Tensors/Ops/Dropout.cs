namespace RewardKit.Tensors;

/// <summary>Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p); identity when p = 0.</summary>
public static class DropoutOp
{
    /// <summary>dropout(x, p) with the mask drawn from <paramref name="rng"/> (one draw per element, in order); dx = dy·mask.</summary>
    public static Tensor Dropout(this Tape tape, Tensor x, float p, Rng rng)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentException($"Dropout: p must be in [0, 1), got {p} (shape {Shapes.Format(x.Shape)}).");
        if (p == 0) return x;
        var mask = tape.Empty(x.Shape);
        var m = mask.Data;
        float keep = 1f / (1 - p);
        for (int i = 0; i < m.Length; i++) m[i] = rng.NextFloat() < p ? 0f : keep;
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        System.Numerics.Tensors.TensorPrimitives.Multiply(x.Data, m, y.Data);
        tape.Record(y, () =>
        {
            System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(y.Grad, mask.Data, x.Grad, x.Grad);
            tape.Release(mask);
        });
        return y;
    }
}
