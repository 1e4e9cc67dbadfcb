using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Evaluation;

/// <summary>A fitted temperature and the validation log loss before (T = 1) and after.</summary>
public sealed record TemperatureFit(double Temperature, double LogLossBefore, double LogLossAfter, int Iterations);

/// <summary>
/// Temperature scaling: choose T &gt; 0 minimising L(β) = −(1/n) Σ log σ(β Δ_i), β = 1/T, on validation margins.
/// L is convex in β (L'' = mean Δ² σ(1−σ) ≥ 0), so Newton's method inside a shrinking bisection bracket on L' converges
/// to the exact minimiser.
/// </summary>
public static class TemperatureScaling
{
    /// <summary>Fits T on validation margins Δ_i = r_chosen − r_rejected.</summary>
    /// <exception cref="ArgumentException">Empty input, non-positive mean margin (no T &gt; 0 helps), or separable margins (T → 0).</exception>
    public static TemperatureFit Fit(ReadOnlySpan<double> margins)
    {
        PreferenceMetrics.RequireNonEmpty(margins.Length);
        var d = margins.ToArray();
        if (d.Any(x => !double.IsFinite(x))) throw new ArgumentException("margins contain NaN or infinity; check the model's scores.");
        double Grad(double beta) { double s = 0; foreach (var x in d) s -= x * (1 - Activations.Sigmoid(beta * x)); return s / d.Length; }
        double Hess(double beta) { double s = 0; foreach (var x in d) { var p = Activations.Sigmoid(beta * x); s += x * x * p * (1 - p); } return s / d.Length; }
        if (Grad(0) >= 0)
            throw new ArgumentException("the validation pairs' mean margin is not positive: the model does not prefer chosen responses, so no temperature T > 0 calibrates it.");
        if (!d.Any(x => x < 0))
            throw new ArgumentException("the validation pairs are separable (no rejected response outscores its chosen one): log loss keeps falling as T → 0; use more or harder validation pairs.");
        double lo = 0, hi = 1;
        int expand = 0;
        while (Grad(hi) < 0)
        {
            lo = hi; hi *= 2;
            if (++expand > 60) throw new ArgumentException("the validation pairs are separable (every chosen outscores its rejected): log loss keeps falling as T → 0; use more or harder validation pairs.");
        }
        double beta = (lo + hi) / 2;
        int it = 0;
        for (; it < 200; it++)
        {
            double g = Grad(beta);
            if (g == 0) break;
            if (g < 0) lo = beta; else hi = beta;
            double h = Hess(beta);
            double next = h > 0 ? beta - g / h : double.NaN;
            if (!(next > lo && next < hi)) next = (lo + hi) / 2;
            if (Math.Abs(next - beta) <= 1e-15 * Math.Max(1, beta) || hi - lo <= 1e-15 * Math.Max(1, beta)) { beta = next; break; }
            beta = next;
        }
        return new TemperatureFit(1 / beta, PreferenceMetrics.LogLoss(d), PreferenceMetrics.LogLoss(d, 1 / beta), it);
    }

    /// <summary>Stores a fitted temperature in the model folder's <c>rewardkit.json</c>, keeping every other field.</summary>
    public static void Store(string modelDirectory, double temperature)
    {
        PreferenceMetrics.RequireTemperature(temperature);
        var metadata = RewardModelMetadata.Load(modelDirectory);
        metadata.Temperature = temperature;
        metadata.Save(modelDirectory);
    }

    /// <summary>Served probability P(a ≻ b) = σ((r_a − r_b)/T), T = 1 when the model is uncalibrated.</summary>
    public static double Probability(double rewardA, double rewardB, double? temperature) =>
        Activations.Sigmoid((rewardA - rewardB) / (temperature ?? 1));
}
