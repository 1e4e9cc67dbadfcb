namespace RewardKit.Training;

/// <summary>
/// The weights w of a combined reward Σ_k w_k r_k that best predict overall preferences from per-objective reward differences
/// d_ik = r_k(chosen_i) − r_k(rejected_i), by Bradley-Terry: maximise mean_i log σ(w · d_i) − (λ/2)‖w‖², λ = 1e-4 (so
/// separable data stays bounded). Concave, so Newton's method from w = 0 converges; deterministic.
/// </summary>
public static class ObjectiveWeightFit
{
    /// <summary>The fitted weights (K).</summary>
    /// <param name="differences">(n, K) row-major d_ik.</param>
    /// <param name="objectives">K.</param>
    /// <param name="iterations">Newton steps (each solves a K×K system). Default 50.</param>
    public static double[] Fit(ReadOnlySpan<double> differences, int objectives, int iterations = 50)
    {
        int k = objectives, n = differences.Length / k;
        if (n == 0 || differences.Length != n * k) throw new ArgumentException($"ObjectiveWeightFit: {differences.Length} differences do not make rows of {k}.", nameof(differences));
        const double lambda = 1e-4;
        var w = new double[k];
        for (int step = 0; step < iterations; step++)
        {
            var gradient = new double[k];
            var hessian = new double[k * k];
            for (int i = 0; i < n; i++)
            {
                var d = differences.Slice(i * k, k);
                double z = 0;
                for (int j = 0; j < k; j++) z += w[j] * d[j];
                double p = 1 / (1 + Math.Exp(-z));                                     // σ(w · d)
                for (int a = 0; a < k; a++)
                {
                    gradient[a] += (1 - p) * d[a] / n;
                    for (int b = 0; b < k; b++) hessian[a * k + b] += p * (1 - p) * d[a] * d[b] / n;
                }
            }
            for (int a = 0; a < k; a++) { gradient[a] -= lambda * w[a]; hessian[a * k + a] += lambda; }
            var delta = Solve(hessian, gradient, k);                                   // H Δ = g (H of the negated objective)
            double size = 0;
            for (int a = 0; a < k; a++) { w[a] += delta[a]; size = Math.Max(size, Math.Abs(delta[a])); }
            if (size < 1e-10) break;
        }
        return w;
    }

    /// <summary>Solves A x = b (A symmetric positive definite, K×K) by Gaussian elimination with partial pivoting.</summary>
    static double[] Solve(double[] a, double[] b, int k)
    {
        var m = (double[])a.Clone();
        var x = (double[])b.Clone();
        for (int col = 0; col < k; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < k; r++) if (Math.Abs(m[r * k + col]) > Math.Abs(m[pivot * k + col])) pivot = r;
            if (pivot != col)
            {
                for (int c = 0; c < k; c++) (m[col * k + c], m[pivot * k + c]) = (m[pivot * k + c], m[col * k + c]);
                (x[col], x[pivot]) = (x[pivot], x[col]);
            }
            for (int r = col + 1; r < k; r++)
            {
                double f = m[r * k + col] / m[col * k + col];
                for (int c = col; c < k; c++) m[r * k + c] -= f * m[col * k + c];
                x[r] -= f * x[col];
            }
        }
        for (int r = k - 1; r >= 0; r--)
        {
            double s = x[r];
            for (int c = r + 1; c < k; c++) s -= m[r * k + c] * x[c];
            x[r] = s / m[r * k + r];
        }
        return x;
    }
}
