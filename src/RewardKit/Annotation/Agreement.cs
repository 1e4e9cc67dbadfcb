namespace RewardKit.Annotation;

/// <summary>The level of measurement of Krippendorff's α: which differences between two values count as how much disagreement.</summary>
public enum AlphaLevel
{
    /// <summary>δ² = 0 for equal values, 1 otherwise (categories without order).</summary>
    Nominal,

    /// <summary>δ² from the ranks of the values among all values given (Krippendorff 2011, eq. for ordinal data).</summary>
    Ordinal,

    /// <summary>δ² = (c − k)².</summary>
    Interval,

    /// <summary>δ² = ((c − k) / (c + k))².</summary>
    Ratio,
}

/// <summary>
/// Chance-corrected agreement between annotators. Every statistic is NaN when it is undefined: no pairable items, or
/// chance agreement of 1 (every label in one category), where (observed − chance) / (1 − chance) divides by zero.
/// </summary>
public static class Agreement
{
    /// <summary>
    /// Cohen's κ of two annotators who labelled the same items, nominal categories (Cohen 1960):
    /// κ = (p_o − p_e) / (1 − p_e), p_o the fraction of items labelled alike, p_e = Σ_c p_A(c) p_B(c).
    /// </summary>
    /// <param name="a">(N) the first annotator's category of each item.</param>
    /// <param name="b">(N) the second annotator's category of the same items.</param>
    public static double CohenKappa(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count) throw new ArgumentException($"CohenKappa: the annotators labelled {a.Count} and {b.Count} items; pass the labels of the same items.", nameof(b));
        int n = a.Count;
        if (n == 0) return double.NaN;
        var countA = new Dictionary<int, int>();
        var countB = new Dictionary<int, int>();
        int same = 0;
        for (int i = 0; i < n; i++)
        {
            if (a[i] == b[i]) same++;
            countA[a[i]] = countA.GetValueOrDefault(a[i]) + 1;
            countB[b[i]] = countB.GetValueOrDefault(b[i]) + 1;
        }
        double observed = same / (double)n;
        double chance = countA.Sum(kv => kv.Value / (double)n * countB.GetValueOrDefault(kv.Key) / n);
        return Corrected(observed, chance);
    }

    /// <summary>
    /// Fleiss' κ (Fleiss 1971) from the number of annotators who put each item in each category. With the same number of
    /// annotators per item it is Fleiss' formula: P̄ = mean over items of Σ_j n_ij(n_ij − 1) / (n_i(n_i − 1)),
    /// P_e = Σ_j p_j² with p_j the share of all labels in category j, κ = (P̄ − P_e) / (1 − P_e). Items with different
    /// numbers of annotators use the same per-item agreement; items with fewer than two labels are left out.
    /// </summary>
    /// <param name="counts">(items, categories) how many annotators chose each category for each item.</param>
    public static double FleissKappa(IReadOnlyList<IReadOnlyList<int>> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var items = counts.Where(row => row.Sum() >= 2).ToList();
        if (items.Count == 0) return double.NaN;
        int categories = items.Max(row => row.Count);
        var totals = new double[categories];
        double agreement = 0, labels = 0;
        foreach (var row in items)
        {
            if (row.Any(c => c < 0)) throw new ArgumentException("FleissKappa: counts must be non-negative.", nameof(counts));
            int n = row.Sum();
            agreement += row.Sum(c => (double)c * (c - 1)) / ((double)n * (n - 1));
            for (int j = 0; j < row.Count; j++) totals[j] += row[j];
            labels += n;
        }
        double observed = agreement / items.Count;
        double chance = totals.Sum(t => (t / labels) * (t / labels));
        return Corrected(observed, chance);
    }

    /// <summary>
    /// Krippendorff's α (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"): from the coincidence matrix
    /// o_ck = Σ_u (number of c–k pairs of values in unit u) / (m_u − 1) over units with m_u ≥ 2 values,
    /// α = 1 − (n − 1) Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck, n_c = Σ_k o_ck, n = Σ_c n_c. Any number of annotators,
    /// missing values allowed (a unit lists only the values given).
    /// </summary>
    /// <param name="units">Each unit's values, one per annotator who labelled it.</param>
    /// <param name="level">The level of measurement (δ²).</param>
    public static double KrippendorffAlpha(IReadOnlyList<IReadOnlyList<double>> units, AlphaLevel level)
    {
        ArgumentNullException.ThrowIfNull(units);
        var pairable = units.Where(u => u.Count >= 2).ToList();
        if (pairable.Count == 0) return double.NaN;
        if (pairable.Any(u => u.Any(v => !double.IsFinite(v)))) throw new ArgumentException("KrippendorffAlpha: values must be finite.", nameof(units));
        var values = pairable.SelectMany(u => u).Distinct().Order().ToArray();
        var index = values.Select((v, i) => (v, i)).ToDictionary(x => x.v, x => x.i);
        int v = values.Length;
        var o = new double[v, v];
        foreach (var unit in pairable)
        {
            double w = 1.0 / (unit.Count - 1);
            for (int i = 0; i < unit.Count; i++)
                for (int j = 0; j < unit.Count; j++)
                    if (i != j) o[index[unit[i]], index[unit[j]]] += w;
        }
        var marginals = new double[v];
        for (int c = 0; c < v; c++)
            for (int k = 0; k < v; k++) marginals[c] += o[c, k];
        double n = marginals.Sum();
        double observed = 0, expected = 0;
        for (int c = 0; c < v; c++)
            for (int k = 0; k < v; k++)
            {
                double d = Delta2(level, values, marginals, c, k);
                observed += o[c, k] * d;
                expected += marginals[c] * marginals[k] * d;
            }
        return expected == 0 ? double.NaN : 1 - (n - 1) * observed / expected;
    }

    /// <summary>δ²(c, k) of the level; <paramref name="marginals"/> are the n_c of the sorted <paramref name="values"/>.</summary>
    static double Delta2(AlphaLevel level, double[] values, double[] marginals, int c, int k)
    {
        if (c == k) return 0;
        switch (level)
        {
            case AlphaLevel.Nominal: return 1;
            case AlphaLevel.Interval: return (values[c] - values[k]) * (values[c] - values[k]);
            case AlphaLevel.Ratio:
            {
                double r = (values[c] - values[k]) / (values[c] + values[k]);
                return r * r;
            }
            case AlphaLevel.Ordinal:
            {
                int lo = Math.Min(c, k), hi = Math.Max(c, k);
                double s = 0;
                for (int g = lo; g <= hi; g++) s += marginals[g];
                s -= (marginals[lo] + marginals[hi]) / 2;
                return s * s;
            }
            default: throw new ArgumentOutOfRangeException(nameof(level));
        }
    }

    static double Corrected(double observed, double chance) => chance >= 1 ? double.NaN : (observed - chance) / (1 - chance);
}
