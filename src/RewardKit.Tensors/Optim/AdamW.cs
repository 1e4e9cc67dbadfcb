namespace RewardKit.Tensors.Optim;

/// <summary>
/// AdamW exactly as torch.optim.AdamW (Loshchilov &amp; Hutter, decoupled weight decay): for each parameter p with gradient g,
/// p -= lr·wd·p (only for entries with <see cref="ParameterSet.Entry.WeightDecay"/>); m = β1·m + (1−β1)·g;
/// v = β2·v + (1−β2)·g²; p -= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps).
/// </summary>
public sealed class AdamW : IOptimizer
{
    readonly ParameterSet _parameters;
    readonly float[] _m, _v;
    readonly (int Offset, int Length, bool Decay)[] _groups;

    /// <summary>Creates the optimiser with PyTorch's defaults.</summary>
    public AdamW(ParameterSet parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01)
    {
        if (learningRate < 0) throw new ArgumentException($"AdamW: learningRate must be >= 0, got {learningRate}.", nameof(learningRate));
        if (beta1 is < 0 or >= 1) throw new ArgumentException($"AdamW: beta1 must be in [0, 1), got {beta1}.", nameof(beta1));
        if (beta2 is < 0 or >= 1) throw new ArgumentException($"AdamW: beta2 must be in [0, 1), got {beta2}.", nameof(beta2));
        if (eps < 0) throw new ArgumentException($"AdamW: eps must be >= 0, got {eps}.", nameof(eps));
        _parameters = parameters;
        LearningRate = learningRate; Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay;
        _m = new float[parameters.Count];
        _v = new float[parameters.Count];
        _groups = Groups(parameters);
    }

    /// <inheritdoc />
    public double LearningRate { get; set; }

    /// <summary>β1 (default 0.9).</summary>
    public double Beta1 { get; }

    /// <summary>β2 (default 0.999).</summary>
    public double Beta2 { get; }

    /// <summary>Added to √v̂ (default 1e-8).</summary>
    public double Eps { get; }

    /// <summary>Decoupled weight decay (default 0.01), applied only to entries that take weight decay.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    public long StepCount { get; private set; }

    /// <summary>Runs of consecutive entries with the same weight-decay flag.</summary>
    internal static (int, int, bool)[] Groups(ParameterSet parameters)
    {
        var groups = new List<(int Offset, int Length, bool Decay)>();
        foreach (var e in parameters.Entries)
        {
            if (groups.Count > 0 && groups[^1].Decay == e.WeightDecay && groups[^1].Offset + groups[^1].Length == e.Offset)
                groups[^1] = (groups[^1].Offset, groups[^1].Length + e.Length, e.WeightDecay);
            else groups.Add((e.Offset, e.Length, e.WeightDecay));
        }
        return [.. groups];
    }

    /// <inheritdoc />
    public void Step()
    {
        StepCount++;
        float b1 = (float)Beta1, b2 = (float)Beta2, eps = (float)Eps;
        float stepSize = (float)(LearningRate / (1 - Math.Pow(Beta1, StepCount)));
        float bc2Sqrt = (float)Math.Sqrt(1 - Math.Pow(Beta2, StepCount));
        var p = _parameters.Values;
        ReadOnlySpan<float> g = _parameters.Gradients;
        foreach (var (offset, length, decay) in _groups)
        {
            float keep = decay ? (float)(1 - LearningRate * WeightDecay) : 1f;
            for (int i = offset; i < offset + length; i++)
            {
                float gi = g[i];
                p[i] *= keep;
                _m[i] = b1 * _m[i] + (1 - b1) * gi;
                _v[i] = b2 * _v[i] + (1 - b2) * gi * gi;
                p[i] -= stepSize * _m[i] / (MathF.Sqrt(_v[i]) / bc2Sqrt + eps);
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, float[]> SaveState() => new Dictionary<string, float[]>
    {
        ["step"] = [StepCount],
        ["exp_avg"] = (float[])_m.Clone(),
        ["exp_avg_sq"] = (float[])_v.Clone(),
    };

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, float[]> state)
    {
        float[] Get(string name, int length) =>
            state.TryGetValue(name, out var a) ? a.Length == length ? a
                : throw new ArgumentException($"AdamW.LoadState: '{name}' has {a.Length} values but the parameters need {length}; was the checkpoint made for another model?")
                : throw new ArgumentException($"AdamW.LoadState: the state has no '{name}' entry.");
        var step = Get("step", 1)[0];
        if (step < 0 || step != MathF.Floor(step)) throw new ArgumentException($"AdamW.LoadState: 'step' must be a whole number >= 0, got {step}.");
        Get("exp_avg", _m.Length).CopyTo(_m, 0);
        Get("exp_avg_sq", _v.Length).CopyTo(_v, 0);
        StepCount = (long)step;
    }
}
