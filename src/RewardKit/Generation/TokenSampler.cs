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
    /// Keeps the nucleus of mass p in O(V) expected time, without sorting the row: a quickselect on probability mass.
    /// The undecided tokens are partitioned around a pivot logit into more likely, equal and less likely; when the more
    /// likely part holds the mass still needed the boundary lies inside it, otherwise it is kept whole and the search
    /// goes on below (equal logits are taken in id order, the order a stable descending sort gives them).
    /// </summary>
    static void KeepNucleus(Span<float> logits, float topP)
    {
        float max = TensorPrimitives.Max(logits);
        var weightBuffer = ArrayPool<float>.Shared.Rent(logits.Length);
        var orderBuffer = ArrayPool<int>.Shared.Rent(logits.Length);
        try
        {
            var weights = weightBuffer.AsSpan(0, logits.Length);   // exp(x − max): unnormalised probabilities
            TensorPrimitives.Subtract(logits, max, weights);
            TensorPrimitives.Exp(weights, weights);
            int count = 0;
            double total = 0;
            for (int i = 0; i < logits.Length; i++)
                if (logits[i] != float.NegativeInfinity) { orderBuffer[count++] = i; total += weights[i]; }
            int kept = NucleusSize(logits, weights, orderBuffer.AsSpan(0, count), topP * total);
            var keep = new bool[logits.Length];
            foreach (int id in orderBuffer.AsSpan(0, kept)) keep[id] = true;
            for (int i = 0; i < logits.Length; i++)
                if (!keep[i]) logits[i] = float.NegativeInfinity;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(weightBuffer);
            ArrayPool<int>.Shared.Return(orderBuffer);
        }
    }

    /// <summary>
    /// Reorders <paramref name="ids"/> so that its first r entries are the nucleus and returns r: the fewest most likely
    /// tokens whose weight reaches <paramref name="need"/> (a token is kept while the weight kept before it is below it).
    /// </summary>
    static int NucleusSize(ReadOnlySpan<float> logits, ReadOnlySpan<float> weights, Span<int> ids, double need)
    {
        int lo = 0, hi = ids.Length - 1;   // [0, lo) kept, (hi, end) removed, the boundary in [lo, hi]
        while (lo <= hi && need > 0)
        {
            if (lo == hi) return lo + 1;
            float pivot = MedianOfThree(logits[ids[lo]], logits[ids[lo + (hi - lo) / 2]], logits[ids[hi]]);
            // Three-way partition of [lo, hi]: [lo, lt) more likely than the pivot, [lt, gt] equal, (gt, hi] less likely.
            int lt = lo, i = lo, gt = hi;
            while (i <= gt)
            {
                float x = logits[ids[i]];
                if (x > pivot) { (ids[lt], ids[i]) = (ids[i], ids[lt]); lt++; i++; }
                else if (x < pivot) { (ids[i], ids[gt]) = (ids[gt], ids[i]); gt--; }
                else i++;
            }
            double above = 0;
            for (int j = lo; j < lt; j++) above += weights[ids[j]];
            if (above >= need) { hi = lt - 1; continue; }
            need -= above;
            ids[lt..(gt + 1)].Sort();   // ties in id order
            for (lo = lt; lo <= gt; lo++)
            {
                if (need <= 0) return lo;
                need -= weights[ids[lo]];
            }
        }
        return lo;
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
