namespace RewardKit.Evaluation;

/// <summary>Correlation coefficients matching scipy.stats (pearsonr, spearmanr, kendalltau variant 'b').</summary>
public static class Correlation
{
    /// <summary>Pearson r = Σ(x−x̄)(y−ȳ) / sqrt(Σ(x−x̄)² Σ(y−ȳ)²); NaN when either input is constant.</summary>
    public static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        Check(x, y);
        double mx = 0, my = 0;
        for (int i = 0; i < x.Length; i++) { mx += x[i]; my += y[i]; }
        mx /= x.Length; my /= y.Length;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? double.NaN : Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
    }

    /// <summary>Spearman ρ = Pearson of average ranks (ties get the mean of their ranks).</summary>
    public static double Spearman(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        Check(x, y);
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>
    /// Kendall τ-b = (C − D) / sqrt((n0 − n1)(n0 − n2)), n0 = n(n−1)/2, n1 / n2 = pairs tied in x / y. O(n²).
    /// </summary>
    public static double KendallTauB(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        Check(x, y);
        long concordant = 0, discordant = 0, tiedX = 0, tiedY = 0;
        for (int i = 0; i < x.Length; i++)
            for (int j = i + 1; j < x.Length; j++)
            {
                int sx = Math.Sign(x[i] - x[j]), sy = Math.Sign(y[i] - y[j]);
                if (sx == 0) tiedX++;
                if (sy == 0) tiedY++;
                if (sx != 0 && sy != 0) { if (sx == sy) concordant++; else discordant++; }
            }
        long n0 = (long)x.Length * (x.Length - 1) / 2;
        double denom = Math.Sqrt((double)(n0 - tiedX) * (n0 - tiedY));
        return denom == 0 ? double.NaN : (concordant - discordant) / denom;
    }

    /// <summary>1-based average ranks (scipy.stats.rankdata method='average').</summary>
    public static double[] Ranks(ReadOnlySpan<double> values)
    {
        var index = new int[values.Length];
        for (int i = 0; i < index.Length; i++) index[i] = i;
        var v = values.ToArray();
        Array.Sort(index, (a, b) => v[a].CompareTo(v[b]));
        var ranks = new double[v.Length];
        for (int i = 0; i < index.Length;)
        {
            int j = i;
            while (j + 1 < index.Length && v[index[j + 1]] == v[index[i]]) j++;
            double avg = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) ranks[index[k]] = avg;
            i = j + 1;
        }
        return ranks;
    }

    static void Check(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"x has {x.Length} values but y has {y.Length}; they must pair up.");
        if (x.Length < 2) throw new ArgumentException("a correlation needs at least 2 values.");
    }
}
