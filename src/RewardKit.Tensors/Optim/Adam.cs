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
/// Same vectorised, threaded update and checkpoint state as <see cref="AdamW"/> (<see cref="AdamOptimizer"/>).
/// </remarks>
public sealed class Adam : AdamOptimizer
{
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
        : base(nameof(Adam), parameters, learningRate, beta1, beta2, eps, weightDecay, pool)
    {
    }

    private protected override (float Keep, float L2) DecayTerms(bool decay) => (1f, decay ? (float)WeightDecay : 0f);
}
