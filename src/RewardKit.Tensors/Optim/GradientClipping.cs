using System.Numerics.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Optim;

/// <summary>Gradient clipping and accumulation over a <see cref="ParameterSet"/>'s flat gradient buffer.</summary>
public static unsafe class GradientClipping
{
    /// <summary>Elements per work piece of the norm and the rescale.</summary>
    internal const int ChunkLength = 1 << 16;

    const int MaxStackPartials = 2048;

    /// <summary>
    /// Like torch.nn.utils.clip_grad_norm_: computes the global L2 norm of all gradients (in double) and, when it exceeds
    /// <paramref name="maxNorm"/>, scales every gradient by maxNorm / (norm + 1e-6). Returns the norm before clipping.
    /// A non-finite norm leaves the gradients untouched (the caller should skip the step).
    /// </summary>
    /// <param name="parameters">Whose gradients to clip.</param>
    /// <param name="maxNorm">The bound, &gt; 0.</param>
    /// <param name="pool">Threads (default <see cref="WorkerPool.Single"/>); the norm is the same for every thread count.</param>
    public static double ClipGlobalNorm(ParameterSet parameters, double maxNorm, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0)) throw new ArgumentException($"ClipGlobalNorm: maxNorm must be > 0, got {maxNorm}.", nameof(maxNorm));
        pool ??= WorkerPool.Single;
        double norm = GlobalNorm(parameters.Gradients, pool);
        double coefficient = maxNorm / (norm + 1e-6);
        if (double.IsFinite(norm) && coefficient < 1)
            fixed (float* g = parameters.Gradients)
            {
                var scale = new ScaleWork { G = g, Length = parameters.Count, Factor = (float)coefficient };
                pool.For(Chunks(parameters.Count), ref scale);
            }
        return norm;
    }

    /// <summary>
    /// √(Σ g²) accumulated in double: per fixed piece of <see cref="ChunkLength"/> elements with
    /// <see cref="OptimizerKernels.SumOfSquares(ReadOnlySpan{float})"/>, then the pieces added in order, so the result
    /// depends neither on the thread count nor on the SIMD width.
    /// </summary>
    public static double GlobalNorm(ReadOnlySpan<float> gradients, WorkerPool? pool = null)
    {
        pool ??= WorkerPool.Single;
        int chunks = Chunks(gradients.Length);
        // One partial per piece (on the stack up to 2048 pieces, 134M values: no allocation per step), added in order.
        Span<double> partials = chunks <= MaxStackPartials ? stackalloc double[chunks] : new double[chunks];
        fixed (float* g = gradients)
        fixed (double* s = partials)
        {
            var work = new NormWork { G = g, Length = gradients.Length, Partials = s };
            pool.For(chunks, ref work);
        }
        double sum = 0;
        foreach (double partial in partials) sum += partial;
        return Math.Sqrt(sum);
    }

    /// <summary>The reference for <see cref="GlobalNorm"/>: one scalar double sum in index order.</summary>
    public static double GlobalNormReference(ReadOnlySpan<float> gradients)
    {
        double sum = 0;
        foreach (float x in gradients) sum += (double)x * x;
        return Math.Sqrt(sum);
    }

    /// <summary>Gradient accumulation: after k micro-batches each added its gradient, scales the sum by 1/k (the mean).</summary>
    public static void AverageAccumulated(ParameterSet parameters, int microBatches)
    {
        if (microBatches < 1) throw new ArgumentException($"AverageAccumulated: microBatches must be >= 1, got {microBatches}.", nameof(microBatches));
        TensorPrimitives.Multiply(parameters.Gradients, 1f / microBatches, parameters.Gradients);
    }

    static int Chunks(int length) => (int)(((long)length + ChunkLength - 1) / ChunkLength);

    struct NormWork : IWorkItem
    {
        public float* G;
        public int Length;
        public double* Partials;

        public readonly void Execute(int index)
        {
            int start = index * ChunkLength;
            Partials[index] = OptimizerKernels.SumOfSquares(new ReadOnlySpan<float>(G + start, Math.Min(ChunkLength, Length - start)));
        }
    }

    struct ScaleWork : IWorkItem
    {
        public float* G;
        public int Length;
        public float Factor;

        public readonly void Execute(int index)
        {
            int start = index * ChunkLength;
            var chunk = new Span<float>(G + start, Math.Min(ChunkLength, Length - start));
            TensorPrimitives.Multiply(chunk, Factor, chunk);
        }
    }
}
