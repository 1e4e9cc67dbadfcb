using System.Numerics.Tensors;

namespace RewardKit.Tensors;

/// <summary>Fused cross-entropy over a vocabulary (log-softmax + negative log-likelihood), mean over targets that are not ignored.</summary>
public static class CrossEntropyOp
{
    /// <summary>
    /// logits (N, V), targets (N) with <paramref name="ignoreIndex"/> skipped → shape (); 0 when every target is ignored.
    /// The forward keeps softmax(logits) of the counted rows for the backward (softmax − onehot), rows split over the tape's pool.
    /// </summary>
    public static Tensor CrossEntropy(this Tape tape, Tensor logits, int[] targets, int ignoreIndex = -100)
    {
        const string op = "CrossEntropy";
        ArgumentNullException.ThrowIfNull(targets);
        Shapes.RequireRank(op, logits, 2, "logits");
        int n = logits.Shape[0], v = logits.Shape[1];
        if (targets.Length != n)
            throw new ArgumentException($"{op}: {targets.Length} targets for logits of shape {Shapes.Format(logits.Shape)} (need {n}).");
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            if (targets[i] == ignoreIndex) continue;
            if ((uint)targets[i] >= (uint)v)
                throw new ArgumentOutOfRangeException(nameof(targets),
                    $"{op}: target {targets[i]} at position {i} is outside [0, {v}) for logits of shape {Shapes.Format(logits.Shape)} (ignore index {ignoreIndex}).");
            count++;
        }
        bool needsGrad = tape.NeedsGrad(logits);
        var loss = tape.Output([], needsGrad);
        var rowLoss = new double[n];
        var probs = needsGrad ? tape.Empty([n, v]) : null;          // softmax rows, for the backward
        var captured = needsGrad ? (int[])targets.Clone() : targets;
        tape.Pool.For(n, i =>
        {
            if (captured[i] == ignoreIndex) return;
            var row = logits.Data.Slice(i * v, v);
            Span<float> e = probs is null ? new float[v] : probs.Data.Slice(i * v, v);
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, e);
            TensorPrimitives.Exp(e, e);
            float sum = TensorPrimitives.Sum<float>(e);
            rowLoss[i] = max + Math.Log(sum) - row[captured[i]];
            if (probs is not null) TensorPrimitives.Multiply(e, 1f / sum, e);
        });
        double total = 0;
        for (int i = 0; i < n; i++) total += rowLoss[i];
        loss[0] = count == 0 ? 0f : (float)(total / count);
        if (!needsGrad) return loss;
        tape.Record(loss, () =>
        {
            if (count == 0) return;
            float g = loss.Grad[0] / count;
            _ = logits.Grad;   // the gradient is allocated on first use: do it here, not on the pool's threads
            tape.Pool.For(n, i =>
            {
                if (captured[i] == ignoreIndex) return;
                var drow = logits.Grad.Slice(i * v, v);
                // d/dx (lse − x_t) = softmax − onehot(t)
                TensorPrimitives.MultiplyAdd(probs!.Data.Slice(i * v, v), g, drow, drow);
                drow[captured[i]] -= g;
            });
        });
        return loss;
    }
}
