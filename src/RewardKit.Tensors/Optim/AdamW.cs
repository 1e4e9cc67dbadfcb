using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Optim;

/// <summary>
/// AdamW exactly as torch.optim.AdamW (Loshchilov &amp; Hutter, decoupled weight decay): for each parameter p with gradient g,
/// p -= lr·wd·p (only for entries with <see cref="ParameterSet.Entry.WeightDecay"/>); m = β1·m + (1−β1)·g;
/// v = β2·v + (1−β2)·g²; p -= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps).
/// </summary>
/// <remarks>
/// The update runs vectorised (<see cref="OptimizerKernels.AdamStep(Span{float}, ReadOnlySpan{float}, Span{float}, Span{float}, in OptimizerKernels.AdamCoefficients)"/>)
/// over fixed pieces of the flat buffers split across the pool's threads; it is bit-identical to the scalar reference
/// for every thread count. See <see cref="Adam"/> for the classic, L2-coupled variant.
/// </remarks>
public sealed class AdamW : IOptimizer
{
    readonly AdamState _state;
    readonly Func<long, bool, OptimizerKernels.AdamCoefficients> _coefficients;   // cached: Step allocates nothing

    /// <summary>Creates the optimiser with PyTorch's defaults.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr (default 1e-3).</param>
    /// <param name="beta1">β1 (default 0.9).</param>
    /// <param name="beta2">β2 (default 0.999).</param>
    /// <param name="eps">ε (default 1e-8).</param>
    /// <param name="weightDecay">Decoupled weight decay (default 0.01) for entries that take it.</param>
    /// <param name="pool">Threads for the update (default <see cref="WorkerPool.Single"/>: the caller only).</param>
    public AdamW(ParameterSet parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01,
        WorkerPool? pool = null)
    {
        _state = new AdamState(nameof(AdamW), parameters, learningRate, beta1, beta2, eps, weightDecay, pool);
        LearningRate = learningRate; Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay;
        _coefficients = Coefficients;
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
    public long StepCount => _state.StepCount;

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
    public void Step() => _state.Step(_coefficients);

    /// <summary>The same step through the scalar reference loop on the calling thread (the fast path is tested against it).</summary>
    public void StepReference() => _state.StepReference(_coefficients);

    OptimizerKernels.AdamCoefficients Coefficients(long step, bool decay) => new(
        Beta1: (float)Beta1, Beta2: (float)Beta2, Eps: (float)Eps,
        StepSize: (float)(LearningRate / (1 - Math.Pow(Beta1, step))),
        Bias2Sqrt: (float)Math.Sqrt(1 - Math.Pow(Beta2, step)),
        Keep: decay ? (float)(1 - LearningRate * WeightDecay) : 1f,
        L2: 0f);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, float[]> SaveState() => _state.Save();

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, float[]> state) => _state.Load(state);
}
