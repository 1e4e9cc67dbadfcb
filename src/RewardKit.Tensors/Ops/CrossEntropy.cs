namespace RewardKit.Tensors;

/// <summary>Fused cross-entropy over a vocabulary (log-softmax + negative log-likelihood), mean over targets that are not ignored.</summary>
public static class CrossEntropyOp
{
    /// <summary>logits (N, V), targets (N) with <paramref name="ignoreIndex"/> skipped → shape (); 0 when every target is ignored.</summary>
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
        var loss = tape.Output([], tape.NeedsGrad(logits));
        var lse = tape.Empty([n]); // log Σ exp per row, kept for the backward
        double total = 0;
        var x = logits.Data;
        for (int i = 0; i < n; i++)
        {
            if (targets[i] == ignoreIndex) continue;
            var row = x.Slice(i * v, v);
            float l = SoftmaxOp.LogSumExp(row);
            lse[i] = l;
            total += l - row[targets[i]];
        }
        loss[0] = count == 0 ? 0f : (float)(total / count);
        var captured = tape.NeedsGrad(logits) ? (int[])targets.Clone() : targets;
        tape.Record(loss, () =>
        {
            if (count == 0) return;
            float g = loss.Grad[0] / count;
            var dx = logits.Grad;
            var xv = logits.Data;
            for (int i = 0; i < n; i++)
            {
                if (captured[i] == ignoreIndex) continue;
                var row = xv.Slice(i * v, v);
                var drow = dx.Slice(i * v, v);
                float l = lse[i];
                // d/dx (lse − x_t) = softmax − onehot(t)
                for (int j = 0; j < v; j++) drow[j] += g * MathF.Exp(row[j] - l);
                drow[captured[i]] -= g;
            }
        });
        return loss;
    }
}
