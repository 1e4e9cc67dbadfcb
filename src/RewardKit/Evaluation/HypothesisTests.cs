using MathNet.Numerics.Distributions;

namespace RewardKit.Evaluation;

/// <summary>A test statistic with its p-value.</summary>
public sealed record TestResult(double Statistic, double PValue);

/// <summary>Significance tests for reward models.</summary>
public static class HypothesisTests
{
    /// <summary>
    /// One-sided Mann-Whitney U test that <paramref name="chosen"/> rewards exceed <paramref name="rejected"/> ones,
    /// as scipy.stats.mannwhitneyu(chosen, rejected, alternative='greater', method='asymptotic', use_continuity=True):
    /// U = R₁ − n₁(n₁+1)/2, σ² = n₁n₂/12 · ((n+1) − Σ(t³−t)/(n(n−1))), z = (U − n₁n₂/2 − ½)/σ, p = 1 − Φ(z).
    /// Returns U (for <paramref name="chosen"/>) and p.
    /// </summary>
    public static TestResult MannWhitneyGreater(ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected)
    {
        int n1 = chosen.Length, n2 = rejected.Length, n = n1 + n2;
        if (n1 == 0 || n2 == 0) throw new ArgumentException("Mann-Whitney needs at least one value in each sample.");
        var all = new double[n];
        chosen.CopyTo(all);
        rejected.CopyTo(all.AsSpan(n1));
        var ranks = Correlation.Ranks(all);
        double r1 = 0;
        for (int i = 0; i < n1; i++) r1 += ranks[i];
        double u = r1 - n1 * (n1 + 1.0) / 2;
        var sorted = (double[])all.Clone();
        Array.Sort(sorted);
        double tieSum = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && sorted[j + 1] == sorted[i]) j++;
            double t = j - i + 1;
            tieSum += t * t * t - t;
            i = j + 1;
        }
        double mu = n1 * (double)n2 / 2;
        double sigma = Math.Sqrt(n1 * (double)n2 / 12 * ((n + 1) - tieSum / (n * (n - 1.0))));
        if (sigma == 0) return new TestResult(u, double.NaN);
        double z = (u - mu - 0.5) / sigma;
        return new TestResult(u, Normal.CDF(0, 1, -z));
    }

    /// <summary>
    /// McNemar's test between models A and B on the same pairs. b = pairs A gets right and B wrong, c = the reverse.
    /// Exact: p = min(1, 2·BinomCDF(min(b,c); b+c, ½)). Chi-square (continuity-corrected): χ² = (|b−c|−1)²/(b+c), df 1.
    /// </summary>
    public static McNemarResult McNemar(IReadOnlyList<bool> correctA, IReadOnlyList<bool> correctB)
    {
        if (correctA.Count != correctB.Count) throw new ArgumentException($"model A has {correctA.Count} pairs but B has {correctB.Count}; McNemar needs the same pairs.");
        int b = 0, c = 0;
        for (int i = 0; i < correctA.Count; i++)
        {
            if (correctA[i] && !correctB[i]) b++;
            else if (!correctA[i] && correctB[i]) c++;
        }
        int m = b + c;
        if (m == 0) return new McNemarResult(0, 0, 1, 0, 1);
        double exact = Math.Min(1, 2 * Binomial.CDF(0.5, m, Math.Min(b, c)));
        double chi2 = Math.Pow(Math.Max(Math.Abs(b - c) - 1, 0), 2) / m;
        return new McNemarResult(b, c, exact, chi2, 1 - ChiSquared.CDF(1, chi2));
    }
}

/// <summary>McNemar's test: discordant counts, exact binomial p, and continuity-corrected chi-square with its p.</summary>
public sealed record McNemarResult(int AOnlyCorrect, int BOnlyCorrect, double ExactPValue, double ChiSquare, double ChiSquarePValue);
