namespace RewardKit.Tensors.Optim;

/// <summary>
/// SGD as torch.optim.SGD (dampening 0): d = g + wd·p (decaying entries only); with momentum μ, buf = d on the first step,
/// then buf = μ·buf + d; d = nesterov ? d + μ·buf : buf; p -= lr·d.
/// </summary>
public sealed class Sgd : IOptimizer
{
    readonly ParameterSet _parameters;
    readonly float[] _buffer;
    readonly (int Offset, int Length, bool Decay)[] _groups;

    /// <summary>Creates the optimiser.</summary>
    public Sgd(ParameterSet parameters, double learningRate, double momentum = 0, bool nesterov = false, double weightDecay = 0)
    {
        if (learningRate < 0) throw new ArgumentException($"Sgd: learningRate must be >= 0, got {learningRate}.", nameof(learningRate));
        if (nesterov && momentum <= 0) throw new ArgumentException("Sgd: nesterov needs momentum > 0.", nameof(nesterov));
        _parameters = parameters;
        LearningRate = learningRate; Momentum = momentum; Nesterov = nesterov; WeightDecay = weightDecay;
        _buffer = new float[parameters.Count];
        _groups = parameters.DecayGroups();
    }

    /// <inheritdoc />
    public double LearningRate { get; set; }

    /// <summary>Momentum μ (0: plain SGD).</summary>
    public double Momentum { get; }

    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <summary>L2 weight decay added to the gradient (decaying entries only).</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    public long StepCount { get; private set; }

    /// <inheritdoc />
    public void Step()
    {
        float lr = (float)LearningRate, mu = (float)Momentum;
        var p = _parameters.Values;
        ReadOnlySpan<float> g = _parameters.Gradients;
        foreach (var (offset, length, decay) in _groups)
        {
            float wd = decay ? (float)WeightDecay : 0f;
            for (int i = offset; i < offset + length; i++)
            {
                float d = g[i] + wd * p[i];
                if (mu != 0)
                {
                    _buffer[i] = StepCount == 0 ? d : mu * _buffer[i] + d;
                    d = Nesterov ? d + mu * _buffer[i] : _buffer[i];
                }
                p[i] -= lr * d;
            }
        }
        StepCount++;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, float[]> SaveState() => new Dictionary<string, float[]>
    {
        ["step"] = [StepCount],
        ["momentum_buffer"] = (float[])_buffer.Clone(),
    };

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, float[]> state)
    {
        if (!state.TryGetValue("step", out var step) || step.Length != 1) throw new ArgumentException("Sgd.LoadState: the state needs a one-value 'step' entry.");
        if (!state.TryGetValue("momentum_buffer", out var buf) || buf.Length != _buffer.Length)
            throw new ArgumentException($"Sgd.LoadState: 'momentum_buffer' must have {_buffer.Length} values (one per parameter scalar).");
        buf.CopyTo(_buffer, 0);
        StepCount = (long)step[0];
    }
}
