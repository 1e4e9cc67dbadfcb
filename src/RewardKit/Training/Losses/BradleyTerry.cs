using RewardKit.Tensors;

namespace RewardKit.Training.Losses;

/// <summary>
/// The Bradley-Terry preference loss, P(y_w ≻ y_l) = σ(r_w − r_l), with TRL's options:
/// <code>
/// Δ_i    = r_w,i − r_l,i − m_i                                   (margin m, default 0)
/// ℓ_i    = −(1 − ε) log σ(Δ_i) − ε log σ(−Δ_i)                   (label smoothing ε, default 0)
/// loss   = Σ_i w_i ℓ_i / Σ_i w_i                                 (per-pair weights w, default 1: the mean)
///        + c · mean((r_w + r_l)²)                                (reward centering, TRL center_rewards_coefficient)
/// </code>
/// </summary>
public static class BradleyTerry
{
    /// <summary>The loss, shape ().</summary>
    /// <param name="tape">The tape recording the step.</param>
    /// <param name="chosen">(N) rewards of the preferred responses r_w.</param>
    /// <param name="rejected">(N) rewards of the other responses r_l.</param>
    /// <param name="margin">(N) optional per-pair margins m (no gradient).</param>
    /// <param name="labelSmoothing">ε in [0, 0.5).</param>
    /// <param name="weights">(N) optional non-negative per-pair weights (annotator confidence), normalised by their sum.</param>
    /// <param name="centerRewardsCoefficient">c ≥ 0; 0 turns centering off.</param>
    public static Tensor Loss(Tape tape, Tensor chosen, Tensor rejected, Tensor? margin = null,
        float labelSmoothing = 0f, Tensor? weights = null, float centerRewardsCoefficient = 0f)
    {
        Shapes.RequireEqual("BradleyTerry.Loss", chosen, rejected);
        if (labelSmoothing < 0 || labelSmoothing >= 0.5f)
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"BradleyTerry.Loss: label smoothing must be in [0, 0.5), got {labelSmoothing}.");
        if (centerRewardsCoefficient < 0)
            throw new ArgumentOutOfRangeException(nameof(centerRewardsCoefficient), $"BradleyTerry.Loss: the centering coefficient must be ≥ 0, got {centerRewardsCoefficient}.");

        var delta = tape.Sub(chosen, rejected);                                        // (N)
        if (margin is not null)
        {
            Shapes.RequireEqual("BradleyTerry.Loss margin", chosen, margin);
            delta = tape.Sub(delta, margin);
        }
        var perPair = tape.Scale(tape.LogSigmoid(delta), -(1 - labelSmoothing));      // −(1−ε) log σ(Δ)
        if (labelSmoothing > 0)
            perPair = tape.Sub(perPair, tape.Scale(tape.LogSigmoid(tape.Scale(delta, -1f)), labelSmoothing)); // − ε log σ(−Δ)

        Tensor loss;
        if (weights is null) loss = tape.Mean(perPair);
        else
        {
            Shapes.RequireEqual("BradleyTerry.Loss weights", chosen, weights);
            float total = 0;
            foreach (var w in weights.Data)
            {
                if (!(w >= 0) || !float.IsFinite(w)) throw new ArgumentException($"BradleyTerry.Loss: weights must be finite and ≥ 0, got {w}.", nameof(weights));
                total += w;
            }
            if (total <= 0) throw new ArgumentException("BradleyTerry.Loss: the weights sum to 0; give at least one pair a positive weight.", nameof(weights));
            loss = tape.Scale(tape.Sum(tape.Mul(perPair, weights)), 1f / total);      // Σ w ℓ / Σ w
        }

        if (centerRewardsCoefficient > 0)
        {
            var sum = tape.Add(chosen, rejected);
            loss = tape.Add(loss, tape.Scale(tape.Mean(tape.Mul(sum, sum)), centerRewardsCoefficient)); // + c·mean((r_w + r_l)²)
        }
        return loss;
    }
}
