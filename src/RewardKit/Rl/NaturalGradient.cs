// Shapes: P parameters; N response tokens of a batch, V vocabulary.
using RewardKit.Models;
using RewardKit.Tensors;

namespace RewardKit.Rl;

/// <summary>
/// The pieces of TRPO's policy step (Schulman et al. 2015, Appendix C): conjugate gradient on Fisher-vector products, the
/// step scaled to the KL bound, and the backtracking line search.
/// </summary>
public static class NaturalGradient
{
    /// <summary>
    /// Solves F·x = b by conjugate gradient from x = 0 (Schulman et al.'s <c>cg</c>): at most
    /// <paramref name="iterations"/> Fisher-vector products, stopping early once the squared residual is below
    /// <paramref name="residualTolerance"/>. Accumulates in double.
    /// </summary>
    /// <param name="fisherVectorProduct">v ↦ F·v (F symmetric positive definite, e.g. with damping).</param>
    /// <param name="b">(P) the right-hand side, the surrogate's gradient.</param>
    /// <param name="iterations">Maximum products (TRPO's 10).</param>
    /// <param name="residualTolerance">Stop when rᵀr falls below this.</param>
    public static float[] ConjugateGradient(Func<float[], float[]> fisherVectorProduct, ReadOnlySpan<float> b, int iterations = 10,
        double residualTolerance = 1e-10)
    {
        ArgumentNullException.ThrowIfNull(fisherVectorProduct);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        int n = b.Length;
        var x = new double[n];
        var r = new double[n];
        var p = new float[n];
        for (int i = 0; i < n; i++) { r[i] = b[i]; p[i] = b[i]; }
        double rr = Dot(r, r);
        for (int k = 0; k < iterations && rr >= residualTolerance; k++)
        {
            var fp = fisherVectorProduct(p);
            double pfp = 0;
            for (int i = 0; i < n; i++) pfp += (double)p[i] * fp[i];
            if (!(pfp > 0)) break;   // F is not positive definite along p (numerical noise): stop with what we have
            double alpha = rr / pfp;
            for (int i = 0; i < n; i++) { x[i] += alpha * p[i]; r[i] -= alpha * fp[i]; }
            double rrNext = Dot(r, r);
            double beta = rrNext / rr;
            for (int i = 0; i < n; i++) p[i] = (float)(r[i] + beta * p[i]);
            rr = rrNext;
        }
        return [.. x.Select(v => (float)v)];
    }

    /// <summary>
    /// The largest multiple β·s of direction <paramref name="direction"/> whose quadratic KL estimate ½·β²·sᵀF·s equals
    /// <paramref name="maxKl"/>: β = √(2δ / sᵀF·s).
    /// </summary>
    /// <param name="direction">(P) s = F⁻¹g.</param>
    /// <param name="fisherTimesDirection">(P) F·s.</param>
    /// <param name="maxKl">δ, the trust region in nats.</param>
    public static double StepScale(ReadOnlySpan<float> direction, ReadOnlySpan<float> fisherTimesDirection, double maxKl)
    {
        double sFs = 0;
        for (int i = 0; i < direction.Length; i++) sFs += (double)direction[i] * fisherTimesDirection[i];
        return sFs > 0 ? Math.Sqrt(2 * maxKl / sFs) : 0;
    }

    /// <summary>
    /// Backtracking line search: tries θ₀ + αᵏ·<paramref name="fullStep"/> for k = 0, 1, …, <paramref name="backtracks"/> − 1
    /// and keeps the first whose surrogate improved and whose mean KL to the old policy is at most <paramref name="maxKl"/>;
    /// when none qualifies the parameters go back to θ₀. Returns the accepted fraction αᵏ (0 when rejected).
    /// </summary>
    /// <param name="parameters">The policy's parameters, at θ₀ on entry; at the accepted point on return.</param>
    /// <param name="fullStep">(P) β·s.</param>
    /// <param name="evaluate">Returns (surrogate, mean KL) at the parameters as they are set.</param>
    /// <param name="surrogateBefore">The surrogate at θ₀.</param>
    /// <param name="maxKl">δ.</param>
    /// <param name="backtracks">How many fractions to try (TRPO's 10).</param>
    /// <param name="shrink">α (TRPO's 0.5).</param>
    public static double LineSearch(ParameterSet parameters, ReadOnlySpan<float> fullStep, Func<(double Surrogate, double Kl)> evaluate,
        double surrogateBefore, double maxKl, int backtracks = 10, double shrink = 0.5)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(evaluate);
        var start = parameters.Values.ToArray();
        double fraction = 1;
        for (int k = 0; k < backtracks; k++, fraction *= shrink)
        {
            var values = parameters.Values;
            for (int i = 0; i < values.Length; i++) values[i] = (float)(start[i] + fraction * fullStep[i]);
            var (surrogate, kl) = evaluate();
            if (double.IsFinite(surrogate) && surrogate > surrogateBefore && kl <= maxKl) return fraction;
        }
        start.CopyTo(parameters.Values);
        return 0;
    }

    static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}

/// <summary>
/// Fisher-vector products of a policy's mean per-token KL at its current parameters θ₀, the curvature TRPO's conjugate
/// gradient needs. At θ = θ₀ the KL's gradient with respect to the logits vanishes, so its Hessian is exactly the
/// Gauss-Newton form F = (1/N)·Σₜ Jₜᵀ·(diag pₜ − pₜpₜᵀ)·Jₜ, Jₜ = ∂zₜ/∂θ the Jacobian of token t's (tempered) logits. Each
/// product takes J·v by central differences of the logits at θ₀ ± ε·v (two inference passes; the engine has no forward-mode
/// derivatives), applies the softmax covariance exactly, and gets Jᵀ·u from one recorded backward pass of the logits with
/// u as their output gradient. PyTorch's double-backward product agrees in direction (tests/…/Rl fixtures).
/// </summary>
public sealed class PolicyFisher
{
    readonly GptLanguageModel _policy;
    readonly TokenBatch _batch;
    readonly ResponseLayout _layout;
    readonly float _temperature;
    readonly Tape _inference;
    readonly Tape _recording;
    readonly float[] _probs;   // (N·V) softmax of the tempered logits at θ₀
    readonly int _vocab;

    /// <summary>The Fisher of <paramref name="policy"/>'s mean KL over the response tokens of <paramref name="batch"/>, at its current weights.</summary>
    /// <param name="policy">The policy (its parameters are moved and restored during each product).</param>
    /// <param name="batch">(B, T) prompt + response ids with ResponseStart.</param>
    /// <param name="temperature">τ dividing the logits, as in the rollout's log-probs.</param>
    /// <param name="damping">λ added as λ·v to every product (TRPO's cg_damping, 0.1).</param>
    /// <param name="pool">Threads for the passes.</param>
    public PolicyFisher(GptLanguageModel policy, TokenBatch batch, float temperature = 1f, double damping = 0.1,
        Tensors.Kernels.WorkerPool? pool = null)
    {
        _policy = policy ?? throw new ArgumentNullException(nameof(policy));
        _batch = batch ?? throw new ArgumentNullException(nameof(batch));
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "use a positive temperature.");
        if (!(damping >= 0)) throw new ArgumentOutOfRangeException(nameof(damping), damping, "use a damping ≥ 0.");
        _layout = ResponseLayout.Of(batch);
        _temperature = temperature;
        Damping = damping;
        _inference = new Tape(pool) { RecordsGradients = false };
        _recording = new Tape(pool);
        _vocab = policy.Config.VocabSize;
        var z = Logits(_inference);
        _probs = z.ToArray();
        _inference.Reset();
        for (int row = 0; row < Tokens; row++) Softmax(_probs.AsSpan(row * _vocab, _vocab));
    }

    /// <summary>λ, added as λ·v.</summary>
    public double Damping { get; }

    /// <summary>N, the response tokens the KL is averaged over.</summary>
    public int Tokens => _layout.Targets.Length;

    /// <summary>F·v + λ·v for a direction <paramref name="v"/> over all parameters (P floats).</summary>
    public float[] Product(float[] v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var parameters = _policy.Parameters;
        if (v.Length != parameters.Count) throw new ArgumentException($"PolicyFisher: a direction of {v.Length} floats for {parameters.Count} parameters.", nameof(v));
        var jv = JacobianTimes(v);                                   // (N·V)
        int V = _vocab;
        var u = new float[jv.Length];
        for (int row = 0; row < Tokens; row++)                       // u = (diag p − p pᵀ)·Jv / N
        {
            var p = _probs.AsSpan(row * V, V);
            var d = jv.AsSpan(row * V, V);
            double pd = 0;
            for (int k = 0; k < V; k++) pd += (double)p[k] * d[k];
            for (int k = 0; k < V; k++) u[row * V + k] = (float)(p[k] * (d[k] - pd) / Tokens);
        }
        parameters.ZeroGrad();
        var logits = Logits(_recording);
        _recording.Backward(logits, u);                              // Jᵀu into the gradients
        _recording.Reset();
        var result = parameters.Gradients.ToArray();
        parameters.ZeroGrad();
        for (int i = 0; i < result.Length; i++) result[i] += (float)(Damping * v[i]);
        return result;
    }

    /// <summary>J·v by central differences: (z(θ₀ + εv) − z(θ₀ − εv)) / 2ε, ε scaled to the size of θ₀ and v.</summary>
    float[] JacobianTimes(float[] v)
    {
        var values = _policy.Parameters.Values;
        var start = values.ToArray();
        double vNorm = Math.Sqrt(v.Sum(x => (double)x * x)), thetaNorm = Math.Sqrt(start.Sum(x => (double)x * x));
        if (vNorm == 0) return new float[Tokens * _vocab];
        double eps = 1e-3 * Math.Max(1, thetaNorm) / vNorm / Math.Sqrt(start.Length);
        try
        {
            for (int i = 0; i < values.Length; i++) values[i] = (float)(start[i] + eps * v[i]);
            var plus = Logits(_inference).ToArray();
            _inference.Reset();
            for (int i = 0; i < values.Length; i++) values[i] = (float)(start[i] - eps * v[i]);
            var minus = Logits(_inference).ToArray();
            _inference.Reset();
            for (int i = 0; i < plus.Length; i++) plus[i] = (float)((plus[i] - (double)minus[i]) / (2 * eps));
            return plus;
        }
        finally { start.CopyTo(values); }
    }

    Tensor Logits(Tape tape)
    {
        var z = _policy.Logits(tape, _batch, _layout.PredictingRows);   // (N, V)
        return _temperature == 1f ? z : tape.Scale(z, 1f / _temperature);
    }

    static void Softmax(Span<float> row)
    {
        float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
        double sum = 0;
        for (int k = 0; k < row.Length; k++) { row[k] = MathF.Exp(row[k] - max); sum += row[k]; }
        for (int k = 0; k < row.Length; k++) row[k] = (float)(row[k] / sum);
    }
}
