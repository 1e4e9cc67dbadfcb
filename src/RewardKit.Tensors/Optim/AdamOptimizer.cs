using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Optim;

/// <summary>
/// What <see cref="Adam"/> and <see cref="AdamW"/> share: the hyper-parameters, the moments and checkpoint state, and the
/// vectorised update (<see cref="OptimizerKernels.AdamStep(Span{float}, ReadOnlySpan{float}, Span{float}, Span{float}, in OptimizerKernels.AdamCoefficients)"/>)
/// over fixed pieces of the flat buffers split across the pool's threads, bit-identical to the scalar reference for every
/// thread count. The two differ only in where weight decay enters the step (<see cref="DecayTerms"/>).
/// </summary>
public abstract class AdamOptimizer : IOptimizer
{
    readonly AdamState _state;
    readonly Func<long, bool, OptimizerKernels.AdamCoefficients> _coefficients;   // cached: Step allocates nothing

    private protected AdamOptimizer(string name, ParameterSet parameters, double learningRate, double beta1, double beta2, double eps,
        double weightDecay, WorkerPool? pool)
    {
        _state = new AdamState(name, parameters, learningRate, beta1, beta2, eps, weightDecay, pool);
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

    /// <summary>Weight decay, applied only to entries that take it (how it enters: see the optimiser's summary).</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    public long StepCount => _state.StepCount;

    /// <inheritdoc />
    public void Step() => _state.Step(_coefficients);

    /// <summary>The same step through the scalar reference loop on the calling thread (the fast path is tested against it).</summary>
    public void StepReference() => _state.StepReference(_coefficients);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, float[]> SaveState() => _state.Save();

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, float[]> state) => _state.Load(state);

    /// <summary>The factor p is multiplied by before the update (decoupled decay) and the L2 coefficient added to g.</summary>
    private protected abstract (float Keep, float L2) DecayTerms(bool decay);

    OptimizerKernels.AdamCoefficients Coefficients(long step, bool decay)
    {
        var (keep, l2) = DecayTerms(decay);
        return new(
            Beta1: (float)Beta1, Beta2: (float)Beta2, Eps: (float)Eps,
            StepSize: (float)(LearningRate / (1 - Math.Pow(Beta1, step))),
            Bias2Sqrt: (float)Math.Sqrt(1 - Math.Pow(Beta2, step)),
            Keep: keep,
            L2: l2);
    }
}
