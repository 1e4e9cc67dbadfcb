// Shapes: B sequences, R the longest response; (B, R) tensors with a constant mask of real response tokens.
using RewardKit.Tensors;

namespace RewardKit.Rl;

/// <summary>The coefficients of the PPO loss (TRL's names and defaults).</summary>
public sealed record PpoLossOptions
{
    /// <summary>ε of the clipped surrogate: the ratio is clipped to [1 − ε, 1 + ε] (TRL <c>cliprange</c>, default 0.2).</summary>
    public double ClipRange { get; init; } = 0.2;

    /// <summary>ε_v of the clipped value loss around the rollout's values (TRL <c>cliprange_value</c>, default 0.2).</summary>
    public double ClipRangeValue { get; init; } = 0.2;

    /// <summary>c₁, the value loss weight (TRL <c>vf_coef</c>, default 0.1).</summary>
    public double ValueCoefficient { get; init; } = 0.1;

    /// <summary>c₂, the entropy bonus weight (default 0: TRL has none; Schulman et al. 2017 use 0.01).</summary>
    public double EntropyCoefficient { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public PpoLossOptions Validate()
    {
        if (!(ClipRange > 0)) throw new ArgumentException($"cliprange is {ClipRange}; use a positive number such as 0.2.", nameof(ClipRange));
        if (!(ClipRangeValue > 0)) throw new ArgumentException($"cliprange_value is {ClipRangeValue}; use a positive number such as 0.2.", nameof(ClipRangeValue));
        if (!(ValueCoefficient >= 0)) throw new ArgumentException($"vf_coef is {ValueCoefficient}; use a number ≥ 0.", nameof(ValueCoefficient));
        if (!(EntropyCoefficient >= 0)) throw new ArgumentException($"entropy_coef is {EntropyCoefficient}; use a number ≥ 0.", nameof(EntropyCoefficient));
        return this;
    }
}

/// <summary>
/// One minibatch's PPO loss and the statistics TRL logs for it. <see cref="Loss"/> (and the other tensors) live on the tape
/// they were built on; the doubles are plain copies.
/// </summary>
/// <param name="Loss">policy loss + c₁·value loss − c₂·entropy (scalar).</param>
/// <param name="PolicyLoss">The clipped surrogate, masked mean of max(−A·ρ, −A·clip(ρ)) (scalar).</param>
/// <param name="ValueLoss">½·masked mean of max((V − R)², (V_clipped − R)²), or null without values (scalar).</param>
/// <param name="Entropy">Masked mean entropy, or null when not given (scalar).</param>
/// <param name="ApproxKl">½·masked mean of (log ρ)² (TRL's <c>policy/approxkl_avg</c>).</param>
/// <param name="ClipFraction">Share of tokens whose clipped term was the larger (<c>policy/clipfrac_avg</c>).</param>
/// <param name="ValueClipFraction">Share of tokens whose clipped value loss was the larger (<c>val/clipfrac_avg</c>).</param>
/// <param name="MeanRatio">Masked mean of ρ (<c>val/ratio</c>).</param>
public sealed record PpoLossTerms(Tensor Loss, Tensor PolicyLoss, Tensor? ValueLoss, Tensor? Entropy,
    double ApproxKl, double ClipFraction, double ValueClipFraction, double MeanRatio);

/// <summary>
/// PPO's clipped objective (Schulman et al. 2017) on the tape, as TRL's PPO trainer computes it per minibatch:
/// ρ = exp(log π − log π_old); policy loss = mean(max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε))); value loss =
/// ½·mean(max((V − R)², (V_old + clip(V − V_old, −ε_v, ε_v) − R)²)); means over the real response tokens.
/// <code>
/// var lp = policy.ResponseLogProbs(tape, batch, temperature, entropy: true);
/// var v = critic.Values(tape, batch);
/// var terms = PpoLoss.Compute(tape, options, lp.LogProbs, lp.Mask, oldLogProbs, advantages, v, oldValues, returns, lp.Entropy);
/// return new MicroBatchLoss(terms.Loss, tokens);   // inside a TrainingStep's loss builder
/// </code>
/// </summary>
public static class PpoLoss
{
    /// <summary>Builds the loss of one minibatch.</summary>
    /// <param name="tape">The recording tape.</param>
    /// <param name="options">Clip ranges and coefficients.</param>
    /// <param name="logProbs">(B, R) log π of the taken tokens under the current policy (differentiable).</param>
    /// <param name="mask">(B, R) 1 for a real response token, 0 for padding.</param>
    /// <param name="oldLogProbs">(B·R) log π_old at the rollout.</param>
    /// <param name="advantages">(B·R) advantages (whitened or not: the caller decides).</param>
    /// <param name="values">(B, R) the critic's current values (differentiable), or null for a policy-only loss.</param>
    /// <param name="oldValues">(B·R) values at the rollout (required with <paramref name="values"/>).</param>
    /// <param name="returns">(B·R) value targets (required with <paramref name="values"/>).</param>
    /// <param name="entropy">(B, R) per-token entropy (differentiable), or null.</param>
    public static PpoLossTerms Compute(Tape tape, PpoLossOptions options, Tensor logProbs, Tensor mask,
        ReadOnlySpan<float> oldLogProbs, ReadOnlySpan<float> advantages,
        Tensor? values = null, ReadOnlySpan<float> oldValues = default, ReadOnlySpan<float> returns = default, Tensor? entropy = null)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logProbs);
        ArgumentNullException.ThrowIfNull(mask);
        options.Validate();
        int n = logProbs.Length;
        Require(mask.Length == n && oldLogProbs.Length == n && advantages.Length == n, "mask, old log-probs and advantages must match the log-probs' B·R cells");
        float count = Math.Max(1f, Sum(mask.Data));

        var logRatio = tape.Sub(logProbs, Constant(tape, logProbs.Shape, oldLogProbs));               // (B, R)
        var ratio = tape.Exp(logRatio);
        var negA = Constant(tape, logProbs.Shape, advantages, scale: -1f);
        var unclipped = tape.Mul(negA, ratio);
        var clipped = tape.Mul(negA, tape.Clamp(ratio, (float)(1 - options.ClipRange), (float)(1 + options.ClipRange)));
        var policyLoss = MaskedMean(tape, tape.Maximum(unclipped, clipped), mask, count);
        var loss = policyLoss;

        Tensor? valueLoss = null;
        double valueClipFraction = 0;
        if (values is not null)
        {
            Require(values.Length == n && oldValues.Length == n && returns.Length == n, "values, old values and returns must match the log-probs' B·R cells");
            (valueLoss, valueClipFraction) = ClippedValueLoss(tape, values, mask, oldValues, returns, options.ClipRangeValue);
            loss = tape.Add(loss, tape.Scale(valueLoss, (float)options.ValueCoefficient));
        }

        Tensor? meanEntropy = null;
        if (entropy is not null)
        {
            Require(entropy.Length == n, "the entropy must match the log-probs' B·R cells");
            meanEntropy = MaskedMean(tape, entropy, mask, count);
            if (options.EntropyCoefficient > 0) loss = tape.Sub(loss, tape.Scale(meanEntropy, (float)options.EntropyCoefficient));
        }

        return new PpoLossTerms(loss, policyLoss, valueLoss, meanEntropy,
            ApproxKl: 0.5 * MaskedMoment(logRatio.Data, mask.Data, count, square: true),
            ClipFraction: MaskedShare(clipped.Data, unclipped.Data, mask.Data, count),
            ValueClipFraction: valueClipFraction,
            MeanRatio: MaskedMoment(ratio.Data, mask.Data, count, square: false));
    }

    /// <summary>
    /// PPO's clipped value loss alone, ½·masked mean of max((V − R)², (V_old + clip(V − V_old, −ε_v, ε_v) − R)²), and the
    /// share of tokens whose clipped term was the larger (<c>val/clipfrac_avg</c>): the critic's own training step.
    /// </summary>
    /// <param name="tape">The recording tape.</param>
    /// <param name="values">(B, R) the critic's current values (differentiable).</param>
    /// <param name="mask">(B, R) 1 for a real response token.</param>
    /// <param name="oldValues">(B·R) values at the rollout.</param>
    /// <param name="returns">(B·R) value targets.</param>
    /// <param name="clipRange">ε_v; <see cref="double.PositiveInfinity"/> for the plain squared error.</param>
    public static (Tensor Loss, double ClipFraction) ClippedValueLoss(Tape tape, Tensor values, Tensor mask,
        ReadOnlySpan<float> oldValues, ReadOnlySpan<float> returns, double clipRange)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(mask);
        int n = values.Length;
        Require(mask.Length == n && oldValues.Length == n && returns.Length == n, "values, mask, old values and returns must have the same B·R cells");
        float count = Math.Max(1f, Sum(mask.Data));
        var old = Constant(tape, values.Shape, oldValues);
        var target = Constant(tape, values.Shape, returns);
        float c = (float)Math.Min(clipRange, 1e30);
        var valueClipped = tape.Add(old, tape.Clamp(tape.Sub(values, old), -c, c));
        var error = Square(tape, tape.Sub(values, target));
        var errorClipped = Square(tape, tape.Sub(valueClipped, target));
        var loss = tape.Scale(MaskedMean(tape, tape.Maximum(error, errorClipped), mask, count), 0.5f);
        return (loss, MaskedShare(errorClipped.Data, error.Data, mask.Data, count));
    }

    /// <summary>Σ(x·mask)/count on the tape (count the real cells: a constant).</summary>
    public static Tensor MaskedMean(Tape tape, Tensor x, Tensor mask, float count) =>
        tape.Scale(tape.Sum(tape.Mul(x, mask)), 1f / count);

    static Tensor Square(Tape tape, Tensor x) => tape.Mul(x, x);

    static Tensor Constant(Tape tape, int[] shape, ReadOnlySpan<float> values, float scale = 1f)
    {
        var t = tape.Empty(shape);
        for (int i = 0; i < values.Length; i++) t.Data[i] = scale * values[i];
        return t;
    }

    static float Sum(ReadOnlySpan<float> x)
    {
        double s = 0;
        foreach (var v in x) s += v;
        return (float)s;
    }

    static double MaskedMoment(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, float count, bool square)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += mask[i] * (square ? (double)x[i] * x[i] : x[i]);
        return s / count;
    }

    /// <summary>The masked share of cells where <paramref name="a"/> &gt; <paramref name="b"/> (TRL's clip fractions).</summary>
    static double MaskedShare(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> mask, float count)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] > b[i]) s += mask[i];
        return s / count;
    }

    static void Require(bool condition, string what)
    {
        if (!condition) throw new ArgumentException($"PpoLoss: {what}.");
    }
}
