using System.Buffers;
using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>The entropy of the softmax distribution of each row of logits (TRL's <c>entropy_from_logits</c>).</summary>
public static class EntropyOp
{
    /// <summary>
    /// logits (N, V) → (N): H_i = −Σ_j p_ij log p_ij with p_i = softmax(x_i), computed as logsumexp(x_i) − Σ_j p_ij x_ij.
    /// The forward keeps each row's log-sum-exp; the backward recomputes p: dx_ij += dH_i · (−p_ij (log p_ij + H_i)).
    /// Rows are split over the tape's pool, each computed by one thread (the same bits for any thread count).
    /// </summary>
    public static Tensor EntropyFromLogits(this Tape tape, Tensor logits)
    {
        Shapes.RequireRank("EntropyFromLogits", logits, 2, "logits");
        int n = logits.Shape[0], v = logits.Shape[1];
        bool needsGrad = tape.NeedsGrad(logits);
        var y = tape.Output([n], needsGrad);
        var lse = needsGrad ? tape.Empty([n]) : null;
        tape.Pool.For(n, i =>
        {
            var (rowLse, entropy) = Row(logits.Data.Slice(i * v, v));
            y.Data[i] = entropy;
            if (lse is not null) lse.Data[i] = rowLse;
        });
        if (!needsGrad) return y;
        tape.Record(y, () =>
        {
            _ = logits.Grad;   // allocated here, not on the pool's threads
            tape.Pool.For(n, i =>
            {
                float g = y.Grad[i];
                if (g == 0f) return;
                Backward(logits.Data.Slice(i * v, v), lse!.Data[i], y.Data[i], g, logits.Grad.Slice(i * v, v));
            });
            tape.Release(lse!);
        });
        return y;
    }

    /// <summary>(logsumexp(x), H) of one row.</summary>
    static (float Lse, float Entropy) Row(ReadOnlySpan<float> x)
    {
        float max = TensorPrimitives.Max(x);
        var buffer = ArrayPool<float>.Shared.Rent(x.Length);
        var e = buffer.AsSpan(0, x.Length);
        TensorPrimitives.Subtract(x, max, e);
        TensorPrimitives.Exp(e, e);
        float sum = TensorPrimitives.Sum<float>(e);
        float expectedLogit = TensorPrimitives.Dot(e, x) / sum;   // Σ p x
        ArrayPool<float>.Shared.Return(buffer);
        float lse = max + MathF.Log(sum);
        return (lse, lse - expectedLogit);
    }

    /// <summary>dx += g · (−p ⊙ (x − lse + H)), p = exp(x − lse).</summary>
    static void Backward(ReadOnlySpan<float> x, float lse, float entropy, float g, Span<float> dx)
    {
        var buffer = ArrayPool<float>.Shared.Rent(x.Length * 2);
        var p = buffer.AsSpan(0, x.Length);
        var t = buffer.AsSpan(x.Length, x.Length);
        TensorPrimitives.Subtract(x, lse, t);        // log p
        TensorPrimitives.Exp(t, p);                  // p
        TensorPrimitives.Add(t, entropy, t);         // log p + H
        TensorPrimitives.Multiply(p, t, t);          // p (log p + H)
        TensorPrimitives.MultiplyAdd(t, -g, dx, dx);
        ArrayPool<float>.Shared.Return(buffer);
    }
}
