namespace RewardKit.Tensors;

/// <summary>Clamps into [min, max]; the gradient is 1 inside and 0 where clamped.</summary>
public static class ClampOp
{
    /// <summary>min(max(x, min), max); dx = dy where min ≤ x ≤ max (inclusive, as in PyTorch).</summary>
    public static Tensor Clamp(this Tape tape, Tensor x, float min, float max)
    {
        if (!(min <= max)) throw new ArgumentException($"Clamp: min {min} must not exceed max {max} (shape {Shapes.Format(x.Shape)}).");
        var y = tape.Output(x.Shape, tape.NeedsGrad(x));
        System.Numerics.Tensors.TensorPrimitives.Clamp(x.Data, min, max, y.Data);
        tape.Record(y, () =>
        {
            var dx = x.Grad;
            ReadOnlySpan<float> dy = y.Grad, xv = x.Data;
            for (int i = 0; i < dx.Length; i++) if (xv[i] >= min && xv[i] <= max) dx[i] += dy[i];
        });
        return y;
    }
}
