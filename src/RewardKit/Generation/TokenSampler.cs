using System.Buffers;
using System.Numerics.Tensors;

namespace RewardKit.Generation;

/// <summary>
/// Turns one row of next-token logits into a token, as Hugging Face's <c>generate</c> does: <see cref="Filter"/> applies
/// temperature, then top-k, then top-p (removed tokens become −∞, like its logits warpers), <see cref="Sample"/> draws from
/// the softmax of what is left with a given uniform number, <see cref="ArgMax"/> is greedy decoding.
/// Span-in, span-out, no state: the caller owns the random stream, so a row's tokens depend only on its seed.
/// </summary>
public static class TokenSampler
{
    /// <summary>
    /// In place: logits ← logits / <paramref name="temperature"/>, then every token outside the <paramref name="topK"/>
    /// largest (ties at the k-th value kept; 0 = off) and outside the nucleus of <paramref name="topP"/> (1 = off) set to −∞.
    /// The nucleus keeps token i when the probability of the tokens more likely than i is below p (so the most likely is
    /// always kept), the rule of Hugging Face's <c>TopPLogitsWarper</c>.
    /// </summary>
    public static void Filter(Span<float> logits, float temperature, int topK, float topP)
    {
        if (logits.IsEmpty) throw new ArgumentException("TokenSampler: no logits.", nameof(logits));
        if (temperature != 1f) TensorPrimitives.Multiply(logits, 1f / temperature, logits);
        if (topK > 0 && topK < logits.Length) KeepTopK(logits, topK);
        if (topP < 1f) KeepNucleus(logits, topP);
    }

    /// <summary>
    /// The token whose cumulative probability, in id order, first exceeds <paramref name="uniform"/> ∈ [0, 1) under
    /// softmax(<paramref name="logits"/>) (−∞ entries have probability 0).
    /// </summary>
    public static int Sample(ReadOnlySpan<float> logits, double uniform)
    {
        float max = TensorPrimitives.Max(logits);
        if (!float.IsFinite(max)) throw new ArgumentException($"TokenSampler: the largest logit is {max}; the model produced no finite logit.", nameof(logits));
        var buffer = ArrayPool<float>.Shared.Rent(logits.Length);
        try
        {
            var e = buffer.AsSpan(0, logits.Length);
            TensorPrimitives.Subtract(logits, max, e);
            TensorPrimitives.Exp(e, e);
            double total = 0;
            foreach (float p in e) total += p;
            double target = uniform * total, cumulative = 0;
            int last = 0;
            for (int i = 0; i < e.Length; i++)
            {
                if (e[i] == 0f) continue;
                cumulative += e[i];
                last = i;
                if (cumulative > target) return i;
            }
            return last;   // rounding left the target at the very end
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>The most likely token (the first of equal maxima).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits) => TensorPrimitives.IndexOfMax(logits);

    /// <summary>log softmax(logits / <paramref name="temperature"/>)[<paramref name="token"/>].</summary>
    public static float LogProb(ReadOnlySpan<float> logits, int token, float temperature = 1f)
    {
        var buffer = ArrayPool<float>.Shared.Rent(logits.Length);
        try
        {
            var x = buffer.AsSpan(0, logits.Length);
            TensorPrimitives.Multiply(logits, 1f / temperature, x);
            float max = TensorPrimitives.Max(x), at = x[token];
            TensorPrimitives.Subtract(x, max, x);
            TensorPrimitives.Exp(x, x);
            return at - max - MathF.Log(TensorPrimitives.Sum(x));
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>Sets every logit below the k-th largest to −∞.</summary>
    static void KeepTopK(Span<float> logits, int k)
    {
        var buffer = ArrayPool<float>.Shared.Rent(logits.Length);
        try
        {
            var copy = buffer.AsSpan(0, logits.Length);
            logits.CopyTo(copy);
            float threshold = KthLargest(copy, k);
            for (int i = 0; i < logits.Length; i++)
                if (logits[i] < threshold) logits[i] = float.NegativeInfinity;
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>
    /// Keeps the nucleus of mass p. Only the candidates that can be in it are sorted: the m largest logits, m doubling from
    /// 64 until the mass of the sorted ones reaches p (one sort of the whole row at worst).
    /// </summary>
    static void KeepNucleus(Span<float> logits, float topP)
    {
        float max = TensorPrimitives.Max(logits);
        double total = 0;
        int finite = 0;
        foreach (float x in logits)
            if (x != float.NegativeInfinity) { total += Math.Exp(x - max); finite++; }
        if (finite == 0) return;
        var keep = new bool[logits.Length];
        var values = ArrayPool<float>.Shared.Rent(logits.Length);
        var order = ArrayPool<int>.Shared.Rent(logits.Length);
        try
        {
            for (int m = Math.Min(64, finite); ; m = Math.Min(2 * m, finite))
            {
                var copy = values.AsSpan(0, logits.Length);
                logits.CopyTo(copy);
                float threshold = KthLargest(copy, m);
                int count = 0;
                for (int i = 0; i < logits.Length; i++)
                    if (logits[i] >= threshold) { order[count] = i; values[count++] = logits[i]; }
                // Descending by logit, ties by id (a fixed order; Hugging Face's sort leaves ties unspecified).
                var ids = order.AsSpan(0, count);
                var keys = values.AsSpan(0, count);
                TensorPrimitives.Negate(keys, keys);
                keys.Sort(ids);
                double before = 0;
                int cut = -1;   // first position (in descending order) outside the nucleus
                for (int r = 0; r < count; r++)
                {
                    if (before / total >= topP) { cut = r; break; }
                    before += Math.Exp(logits[ids[r]] - max);
                }
                if (cut < 0 && count < finite) continue;   // the nucleus may reach beyond the candidates: take more
                int kept = cut < 0 ? count : cut;
                for (int r = 0; r < kept; r++) keep[ids[r]] = true;
                for (int i = 0; i < logits.Length; i++)
                    if (!keep[i]) logits[i] = float.NegativeInfinity;
                return;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>The k-th largest value of <paramref name="x"/> (1-based k), reordering <paramref name="x"/> (quickselect, O(n) expected).</summary>
    internal static float KthLargest(Span<float> x, int k)
    {
        if (k < 1 || k > x.Length) throw new ArgumentOutOfRangeException(nameof(k), $"TokenSampler: k = {k} for {x.Length} values.");
        int target = k - 1, lo = 0, hi = x.Length - 1;   // x[target] in descending order
        while (lo < hi)
        {
            float pivot = MedianOfThree(x[lo], x[lo + (hi - lo) / 2], x[hi]);
            // Three-way partition: [lo, lt) > pivot, [lt, gt] == pivot, (gt, hi] < pivot.
            int lt = lo, i = lo, gt = hi;
            while (i <= gt)
            {
                if (x[i] > pivot) { Swap(x, lt, i); lt++; i++; }
                else if (x[i] < pivot) { Swap(x, i, gt); gt--; }
                else i++;
            }
            if (target < lt) hi = lt - 1;
            else if (target > gt) lo = gt + 1;
            else return pivot;
        }
        return x[target];
    }

    static void Swap(Span<float> x, int i, int j) => (x[i], x[j]) = (x[j], x[i]);

    static float MedianOfThree(float a, float b, float c) => Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
}
