using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Optim;

/// <summary>
/// AdamW exactly as torch.optim.AdamW (Loshchilov &amp; Hutter, decoupled weight decay): for each parameter p with gradient g,
/// p -= lr·wd·p (only for entries with <see cref="ParameterSet.Entry.WeightDecay"/>); m = β1·m + (1−β1)·g;
/// v = β2·v + (1−β2)·g²; p -= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps).
/// </summary>
/// <remarks>
/// Vectorised and threaded as every <see cref="AdamOptimizer"/>. See <see cref="Adam"/> for the classic, L2-coupled variant.
/// </remarks>
public sealed class AdamW : AdamOptimizer
{
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
        : base(nameof(AdamW), parameters, learningRate, beta1, beta2, eps, weightDecay, pool)
    {
    }

    private protected override (float Keep, float L2) DecayTerms(bool decay) => (decay ? (float)(1 - LearningRate * WeightDecay) : 1f, 0f);
}
