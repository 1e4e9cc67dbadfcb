namespace RewardKit.Tensors.Optim;

/// <summary>Gradient clipping and accumulation over a <see cref="ParameterSet"/>'s flat gradient buffer.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Like torch.nn.utils.clip_grad_norm_: computes the global L2 norm of all gradients (in double) and, when it exceeds
    /// <paramref name="maxNorm"/>, scales every gradient by maxNorm / (norm + 1e-6). Returns the norm before clipping.
    /// A non-finite norm leaves the gradients untouched (the caller should skip the step).
    /// </summary>
    public static double ClipGlobalNorm(ParameterSet parameters, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentException($"ClipGlobalNorm: maxNorm must be > 0, got {maxNorm}.", nameof(maxNorm));
        ReadOnlySpan<float> g = parameters.Gradients;
        double sum = 0;
        const int Block = 4096;
        for (int i = 0; i < g.Length; i += Block) sum += System.Numerics.Tensors.TensorPrimitives.SumOfSquares(g.Slice(i, Math.Min(Block, g.Length - i)));
        double norm = Math.Sqrt(sum);
        double coefficient = maxNorm / (norm + 1e-6);
        if (double.IsFinite(norm) && coefficient < 1)
            System.Numerics.Tensors.TensorPrimitives.Multiply(parameters.Gradients, (float)coefficient, parameters.Gradients);
        return norm;
    }

    /// <summary>Gradient accumulation: after k micro-batches each added its gradient, scales the sum by 1/k (the mean).</summary>
    public static void AverageAccumulated(ParameterSet parameters, int microBatches)
    {
        if (microBatches < 1) throw new ArgumentException($"AverageAccumulated: microBatches must be >= 1, got {microBatches}.", nameof(microBatches));
        System.Numerics.Tensors.TensorPrimitives.Multiply(parameters.Gradients, 1f / microBatches, parameters.Gradients);
    }
}
