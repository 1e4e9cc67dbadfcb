using System.Buffers;
using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>
/// The log-probability of one chosen class per row, log softmax(x)[target], without materialising the log-softmax
/// (TRL's <c>selective_log_softmax</c>): the per-token log-probs of the taken tokens that policy-gradient losses use.
/// </summary>
public static class SelectiveLogSoftmaxOp
{
    /// <summary>
    /// logits (N, V), targets (N) in [0, V) → (N): y_i = x_i[t_i] − logsumexp(x_i). The forward keeps each row's
    /// log-sum-exp; the backward recomputes softmax from the logits: dx_i += dy_i · (onehot(t_i) − softmax(x_i)).
    /// Rows are split over the tape's pool, each computed by one thread (the same bits for any thread count).
    /// </summary>
    public static Tensor SelectiveLogSoftmax(this Tape tape, Tensor logits, int[] targets)
    {
        const string op = "SelectiveLogSoftmax";
        ArgumentNullException.ThrowIfNull(targets);
        Shapes.RequireRank(op, logits, 2, "logits");
        int n = logits.Shape[0], v = logits.Shape[1];
        if (targets.Length != n)
            throw new ArgumentException($"{op}: {targets.Length} targets for logits of shape {Shapes.Format(logits.Shape)} (need {n}).");
        for (int i = 0; i < n; i++)
            if ((uint)targets[i] >= (uint)v)
                throw new ArgumentOutOfRangeException(nameof(targets), $"{op}: target {targets[i]} at position {i} is outside [0, {v}) for logits of shape {Shapes.Format(logits.Shape)}.");
        bool needsGrad = tape.NeedsGrad(logits);
        var y = tape.Output([n], needsGrad);
        var lse = needsGrad ? tape.Empty([n]) : null;                   // log-sum-exp of each row, for the backward
        var captured = needsGrad ? (int[])targets.Clone() : targets;
        tape.Pool.For(n, i =>
        {
            float rowLse = LogSoftmaxRows.LogSumExp(logits.Data.Slice(i * v, v));
            y.Data[i] = logits.Data[i * v + captured[i]] - rowLse;
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
                var dx = logits.Grad.Slice(i * v, v);
                LogSoftmaxRows.AddScaledSoftmax(logits.Data.Slice(i * v, v), lse!.Data[i], -g, dx);   // −g · softmax
                dx[captured[i]] += g;
            });
            tape.Release(lse!);
        });
        return y;
    }
}

/// <summary>Row helpers shared by the log-softmax family (log-sum-exp, softmax recomputed from it).</summary>
internal static class LogSoftmaxRows
{
    /// <summary>log Σ exp(x), stable (max subtracted), vectorised through a pooled scratch row.</summary>
    public static float LogSumExp(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return float.NegativeInfinity;
        float max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max)) return max;
        var buffer = ArrayPool<float>.Shared.Rent(x.Length);
        var e = buffer.AsSpan(0, x.Length);
        TensorPrimitives.Subtract(x, max, e);
        TensorPrimitives.Exp(e, e);
        float sum = TensorPrimitives.Sum<float>(e);
        ArrayPool<float>.Shared.Return(buffer);
        return max + MathF.Log(sum);
    }

    /// <summary>dx += scale · softmax(x), with softmax(x) = exp(x − lse).</summary>
    public static void AddScaledSoftmax(ReadOnlySpan<float> x, float lse, float scale, Span<float> dx)
    {
        var buffer = ArrayPool<float>.Shared.Rent(x.Length);
        var p = buffer.AsSpan(0, x.Length);
        TensorPrimitives.Subtract(x, lse, p);
        TensorPrimitives.Exp(p, p);
        TensorPrimitives.MultiplyAdd(p, scale, dx, dx);
        ArrayPool<float>.Shared.Return(buffer);
    }
}
