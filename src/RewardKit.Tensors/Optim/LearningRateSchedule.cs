namespace RewardKit.Tensors.Optim;

/// <summary>
/// Learning rate as a function of the number of optimiser steps already taken (0 for the first step), matching Hugging Face
/// transformers' get_constant_schedule, get_linear_schedule_with_warmup and get_cosine_schedule_with_warmup when the
/// floor is 0; with a floor f the decaying factor d becomes f + (1 − f)·d.
/// </summary>
public sealed class LearningRateSchedule
{
    readonly Func<long, double> _factor;

    LearningRateSchedule(double peak, Func<long, double> factor) { Peak = peak; _factor = factor; }

    /// <summary>The peak (base) learning rate.</summary>
    public double Peak { get; }

    /// <summary>The learning rate for the step after <paramref name="step"/> steps.</summary>
    public double At(long step) => Peak * _factor(Math.Max(0, step));

    /// <summary>A constant rate.</summary>
    public static LearningRateSchedule Constant(double learningRate) => new(learningRate, _ => 1);

    /// <summary>Linear warm-up from 0 over <paramref name="warmupSteps"/>, then linear decay to <paramref name="floor"/>·peak at <paramref name="totalSteps"/>.</summary>
    public static LearningRateSchedule LinearWithWarmup(double learningRate, long warmupSteps, long totalSteps, double floor = 0)
    {
        Validate(warmupSteps, totalSteps, floor);
        return new(learningRate, s => s < warmupSteps ? (double)s / Math.Max(1, warmupSteps)
            : floor + (1 - floor) * Math.Max(0, (double)(totalSteps - s) / Math.Max(1, totalSteps - warmupSteps)));
    }

    /// <summary>Linear warm-up, then half a cosine (<paramref name="cycles"/> = 0.5) down to <paramref name="floor"/>·peak.</summary>
    public static LearningRateSchedule CosineWithWarmup(double learningRate, long warmupSteps, long totalSteps, double cycles = 0.5, double floor = 0)
    {
        Validate(warmupSteps, totalSteps, floor);
        return new(learningRate, s =>
        {
            if (s < warmupSteps) return (double)s / Math.Max(1, warmupSteps);
            double progress = (double)(s - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
            double d = 0.5 * (1 + Math.Cos(Math.PI * cycles * 2 * progress));
            return Math.Max(0, floor + (1 - floor) * d);
        });
    }

    static void Validate(long warmup, long total, double floor)
    {
        if (warmup < 0 || total < warmup) throw new ArgumentException($"LearningRateSchedule: need 0 <= warmupSteps <= totalSteps, got {warmup} and {total}.");
        if (floor is < 0 or > 1) throw new ArgumentException($"LearningRateSchedule: floor is a fraction of the peak in [0, 1], got {floor}.");
    }
}
