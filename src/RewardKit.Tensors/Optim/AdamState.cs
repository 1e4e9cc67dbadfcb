using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Optim;

/// <summary>
/// The moments, validation, checkpoint state and threaded update loop that <see cref="Adam"/> and <see cref="AdamW"/> share;
/// the two differ only in how weight decay enters the <see cref="OptimizerKernels.AdamCoefficients"/>.
/// </summary>
/// <remarks>
/// The flat buffers are cut into pieces of at most <see cref="ChunkLength"/> elements that never straddle a change of the
/// weight-decay flag; the pool hands each thread a fixed contiguous run of pieces. The update is elementwise, so the result
/// is bit-identical for every thread count and equal to <see cref="OptimizerKernels.AdamStepReference"/>.
/// </remarks>
internal sealed unsafe class AdamState
{
    /// <summary>Elements per work piece (256 KB of each of p, g, m and v).</summary>
    internal const int ChunkLength = 1 << 16;

    readonly string _owner;
    readonly ParameterSet _parameters;
    readonly float[] _m, _v;
    readonly (int Offset, int Length, bool Decay)[] _pieces;
    readonly WorkerPool _pool;

    internal AdamState(string owner, ParameterSet parameters, double learningRate, double beta1, double beta2, double eps, double weightDecay, WorkerPool? pool)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (learningRate < 0) throw new ArgumentException($"{owner}: learningRate must be >= 0, got {learningRate}.", nameof(learningRate));
        if (beta1 is < 0 or >= 1) throw new ArgumentException($"{owner}: beta1 must be in [0, 1), got {beta1}.", nameof(beta1));
        if (beta2 is < 0 or >= 1) throw new ArgumentException($"{owner}: beta2 must be in [0, 1), got {beta2}.", nameof(beta2));
        if (eps < 0) throw new ArgumentException($"{owner}: eps must be >= 0, got {eps}.", nameof(eps));
        if (weightDecay < 0) throw new ArgumentException($"{owner}: weightDecay must be >= 0, got {weightDecay}.", nameof(weightDecay));
        _owner = owner;
        _parameters = parameters;
        _pool = pool ?? WorkerPool.Single;
        _m = GC.AllocateArray<float>(parameters.Count, pinned: true);
        _v = GC.AllocateArray<float>(parameters.Count, pinned: true);
        var pieces = new List<(int, int, bool)>();
        foreach (var (offset, length, decay) in parameters.DecayGroups())
            for (int start = offset; start < offset + length; start += ChunkLength)
                pieces.Add((start, Math.Min(ChunkLength, offset + length - start), decay));
        _pieces = [.. pieces];
    }

    internal long StepCount { get; private set; }

    /// <summary>Takes one step; <paramref name="coefficients"/> maps (step count, decays?) to the kernel's scalars.</summary>
    internal void Step(Func<long, bool, OptimizerKernels.AdamCoefficients> coefficients)
    {
        StepCount++;
        var work = new Work
        {
            Pieces = _pieces,
            Decayed = coefficients(StepCount, true),
            Plain = coefficients(StepCount, false),
        };
        fixed (float* p = _parameters.Values, g = _parameters.Gradients, m = _m, v = _v)
        {
            work.P = p; work.G = g; work.M = m; work.V = v;
            _pool.For(_pieces.Length, ref work);
        }
    }

    /// <summary>The same step through the scalar reference, one piece after another on the caller (tests compare against it).</summary>
    internal void StepReference(Func<long, bool, OptimizerKernels.AdamCoefficients> coefficients)
    {
        StepCount++;
        var decayed = coefficients(StepCount, true);
        var plain = coefficients(StepCount, false);
        var p = _parameters.Values;
        ReadOnlySpan<float> g = _parameters.Gradients;
        foreach (var (offset, length, decay) in _pieces)
            OptimizerKernels.AdamStepReference(p.Slice(offset, length), g.Slice(offset, length), _m.AsSpan(offset, length), _v.AsSpan(offset, length), decay ? decayed : plain);
    }

    struct Work : IWorkItem
    {
        public (int Offset, int Length, bool Decay)[] Pieces;
        public OptimizerKernels.AdamCoefficients Decayed, Plain;
        public float* P, G, M, V;

        public readonly void Execute(int index)
        {
            var (offset, length, decay) = Pieces[index];
            OptimizerKernels.AdamStep(new Span<float>(P + offset, length), new ReadOnlySpan<float>(G + offset, length),
                new Span<float>(M + offset, length), new Span<float>(V + offset, length), decay ? Decayed : Plain);
        }
    }

    internal IReadOnlyDictionary<string, float[]> Save() => new Dictionary<string, float[]>
    {
        ["step"] = [StepCount],
        ["exp_avg"] = (float[])_m.Clone(),
        ["exp_avg_sq"] = (float[])_v.Clone(),
    };

    internal void Load(IReadOnlyDictionary<string, float[]> state)
    {
        float[] Get(string name, int length) =>
            state.TryGetValue(name, out var a) ? a.Length == length ? a
                : throw new ArgumentException($"{_owner}.LoadState: '{name}' has {a.Length} values but the parameters need {length}; was the checkpoint made for another model?")
                : throw new ArgumentException($"{_owner}.LoadState: the state has no '{name}' entry.");
        var step = Get("step", 1)[0];
        if (step < 0 || step != MathF.Floor(step)) throw new ArgumentException($"{_owner}.LoadState: 'step' must be a whole number >= 0, got {step}.");
        var m = Get("exp_avg", _m.Length);
        var v = Get("exp_avg_sq", _v.Length);
        m.CopyTo(_m, 0);
        v.CopyTo(_v, 0);
        StepCount = (long)step;
    }
}
