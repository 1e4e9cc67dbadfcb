using RewardKit.Tensors;

namespace RewardKit.Training.Pending;

// Stand-ins with the API of RewardKit.Tensors.Optim (branch opsa) until it is merged into main; this file is deleted then.

/// <summary>AdamW as torch.optim.AdamW, decoupled decay only on entries that take weight decay.</summary>
internal sealed class AdamW(ParameterSet parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01)
{
    readonly float[] _m = new float[parameters.Count], _v = new float[parameters.Count];

    public double LearningRate { get; set; } = learningRate;
    public long StepCount { get; private set; }

    public void Step()
    {
        StepCount++;
        float b1 = (float)beta1, b2 = (float)beta2, e = (float)eps;
        float stepSize = (float)(LearningRate / (1 - Math.Pow(beta1, StepCount)));
        float bc2Sqrt = (float)Math.Sqrt(1 - Math.Pow(beta2, StepCount));
        var p = parameters.Values;
        ReadOnlySpan<float> g = parameters.Gradients;
        foreach (var entry in parameters.Entries)
        {
            float keep = entry.WeightDecay ? (float)(1 - LearningRate * weightDecay) : 1f;
            for (int i = entry.Offset; i < entry.Offset + entry.Length; i++)
            {
                p[i] *= keep;
                _m[i] = b1 * _m[i] + (1 - b1) * g[i];
                _v[i] = b2 * _v[i] + (1 - b2) * g[i] * g[i];
                p[i] -= stepSize * _m[i] / (MathF.Sqrt(_v[i]) / bc2Sqrt + e);
            }
        }
    }

    public IReadOnlyDictionary<string, float[]> SaveState() => new Dictionary<string, float[]>
    {
        ["step"] = [StepCount],
        ["exp_avg"] = (float[])_m.Clone(),
        ["exp_avg_sq"] = (float[])_v.Clone(),
    };

    public void LoadState(IReadOnlyDictionary<string, float[]> state)
    {
        state["exp_avg"].CopyTo(_m, 0);
        state["exp_avg_sq"].CopyTo(_v, 0);
        StepCount = (long)state["step"][0];
    }
}

/// <summary>Global-norm clipping as torch.nn.utils.clip_grad_norm_.</summary>
internal static class GradientClipping
{
    public static double ClipGlobalNorm(ParameterSet parameters, double maxNorm)
    {
        double sum = System.Numerics.Tensors.TensorPrimitives.SumOfSquares<float>(parameters.Gradients);
        double norm = Math.Sqrt(sum);
        double coefficient = maxNorm / (norm + 1e-6);
        if (double.IsFinite(norm) && coefficient < 1)
            System.Numerics.Tensors.TensorPrimitives.Multiply(parameters.Gradients, (float)coefficient, parameters.Gradients);
        return norm;
    }
}

/// <summary>Hugging Face's constant / linear / cosine schedules with warm-up.</summary>
internal sealed class LearningRateSchedule
{
    readonly Func<long, double> _factor;
    LearningRateSchedule(double peak, Func<long, double> factor) { Peak = peak; _factor = factor; }
    public double Peak { get; }
    public double At(long step) => Peak * _factor(Math.Max(0, step));
    public static LearningRateSchedule Constant(double learningRate) => new(learningRate, _ => 1);
    public static LearningRateSchedule LinearWithWarmup(double learningRate, long warmupSteps, long totalSteps) =>
        new(learningRate, s => s < warmupSteps ? (double)s / Math.Max(1, warmupSteps)
            : Math.Max(0, (double)(totalSteps - s) / Math.Max(1, totalSteps - warmupSteps)));
    public static LearningRateSchedule CosineWithWarmup(double learningRate, long warmupSteps, long totalSteps) =>
        new(learningRate, s => s < warmupSteps ? (double)s / Math.Max(1, warmupSteps)
            : Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * (double)(s - warmupSteps) / Math.Max(1, totalSteps - warmupSteps)))));
}
