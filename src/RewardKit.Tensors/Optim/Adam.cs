using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Optim;

/// <summary>
/// Classic Adam exactly as torch.optim.Adam (Kingma &amp; Ba) with L2 weight decay added to the gradient: for each parameter p
/// with gradient g, g' = g + wd·p (only for entries with <see cref="ParameterSet.Entry.WeightDecay"/>); m = β1·m + (1−β1)·g';
/// v = β2·v + (1−β2)·g'²; p -= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps).
/// </summary>
/// <remarks>
/// The only difference from <see cref="AdamW"/> is where the decay enters: here it passes through the moments (and so is
/// rescaled by the adaptive denominator), there it shrinks p directly by lr·wd·p. With wd = 0 the two are identical.
/// Same vectorised, threaded update and checkpoint state as <see cref="AdamW"/>.
/// </remarks>
public sealed class Adam : IOptimizer
{
    readonly AdamState _state;
    readonly Func<long, bool, OptimizerKernels.AdamCoefficients> _coefficients;   // cached: Step allocates nothing

    /// <summary>Creates the optimiser with PyTorch's defaults (no weight decay).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr (default 1e-3).</param>
    /// <param name="beta1">β1 (default 0.9).</param>
    /// <param name="beta2">β2 (default 0.999).</param>
    /// <param name="eps">ε (default 1e-8).</param>
    /// <param name="weightDecay">L2 weight decay added to the gradient (default 0) for entries that take it.</param>
    /// <param name="pool">Threads for the update (default <see cref="WorkerPool.Single"/>: the caller only).</param>
    public Adam(ParameterSet parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0,
        WorkerPool? pool = null)
    {
        _state = new AdamState(nameof(Adam), parameters, learningRate, beta1, beta2, eps, weightDecay, pool);
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

    /// <summary>L2 weight decay added to the gradient (default 0), only for entries that take weight decay.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    public long StepCount => _state.StepCount;

    /// <inheritdoc />
    public void Step() => _state.Step(_coefficients);

    /// <summary>The same step through the scalar reference loop on the calling thread (the fast path is tested against it).</summary>
    public void StepReference() => _state.StepReference(_coefficients);

    OptimizerKernels.AdamCoefficients Coefficients(long step, bool decay) => new(
        Beta1: (float)Beta1, Beta2: (float)Beta2, Eps: (float)Eps,
        StepSize: (float)(LearningRate / (1 - Math.Pow(Beta1, step))),
        Bias2Sqrt: (float)Math.Sqrt(1 - Math.Pow(Beta2, step)),
        Keep: 1f,
        L2: decay ? (float)WeightDecay : 0f);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, float[]> SaveState() => _state.Save();

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, float[]> state) => _state.Load(state);
}
