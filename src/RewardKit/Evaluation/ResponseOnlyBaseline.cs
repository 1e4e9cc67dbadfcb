using System.Globalization;
using System.Text;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Evaluation;

/// <summary>Options of <see cref="ResponseOnlyBaseline"/>.</summary>
public sealed record ResponseOnlyBaselineOptions
{
    /// <summary>Full-batch gradient-descent iterations. Default 300.</summary>
    public int Iterations { get; init; } = 300;

    /// <summary>Gradient-descent step size. Default 1.</summary>
    public double StepSize { get; init; } = 1;

    /// <summary>L2 penalty λ in mean(−log σ(w·(φ(y_w) − φ(y_l)))) + λ/2 ‖w‖². Default 1e-4.</summary>
    public double L2 { get; init; } = 1e-4;
}

/// <summary>
/// The response-only baseline: a Bradley-Terry logistic regression r(y) = w·φ(y) on bag-of-words features of the RESPONSE
/// ALONE (lower-cased words, numbers and punctuation marks, plus adjacent-pair bigrams; vocabulary from the training
/// responses), fitted on the training pairs by full-batch gradient descent on mean −log σ(r(y_w) − r(y_l)) + λ/2 ‖w‖².
/// It never sees the prompt, so its accuracy is what surface style (refusals, padding, rudeness, hedging, length of the
/// words used) buys; a reward model must beat it by reading the prompt (off-topic answers, wrong facts, format asked for).
/// Deterministic: the same pairs give the same weights.
/// </summary>
public sealed class ResponseOnlyBaseline
{
    readonly Dictionary<string, int> _vocabulary;
    readonly double[] _weights;

    ResponseOnlyBaseline(Dictionary<string, int> vocabulary, double[] weights)
    {
        _vocabulary = vocabulary;
        _weights = weights;
    }

    /// <summary>Distinct features (unigrams and bigrams) seen in the training responses.</summary>
    public int FeatureCount => _weights.Length;

    /// <summary>Fits the baseline on (chosen, rejected) response texts.</summary>
    public static ResponseOnlyBaseline Fit(IReadOnlyList<(string Chosen, string Rejected)> pairs, ResponseOnlyBaselineOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        options ??= new ResponseOnlyBaselineOptions();
        if (pairs.Count == 0) throw new ArgumentException("ResponseOnlyBaseline.Fit: no training pairs.", nameof(pairs));
        if (options.Iterations < 1 || !(options.StepSize > 0) || options.L2 < 0)
            throw new ArgumentException("ResponseOnlyBaselineOptions: Iterations must be >= 1, StepSize > 0 and L2 >= 0.", nameof(options));
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = new (int[] Index, double[] Value)[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            var diff = new Dictionary<int, double>();
            foreach (var f in Features(pairs[i].Chosen)) Add(diff, Id(vocabulary, f), +1);
            foreach (var f in Features(pairs[i].Rejected)) Add(diff, Id(vocabulary, f), -1);
            var nonZero = diff.Where(kv => kv.Value != 0).OrderBy(kv => kv.Key).ToArray();
            rows[i] = (nonZero.Select(kv => kv.Key).ToArray(), nonZero.Select(kv => kv.Value).ToArray());
        }
        var w = new double[vocabulary.Count];
        var grad = new double[w.Length];
        for (int it = 0; it < options.Iterations; it++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Array.Clear(grad);
            foreach (var (index, value) in rows)
            {
                double z = 0;
                for (int k = 0; k < index.Length; k++) z += w[index[k]] * value[k];
                double coefficient = -Activations.Sigmoid(-z) / rows.Length; // d/dz of −log σ(z), averaged
                for (int k = 0; k < index.Length; k++) grad[index[k]] += coefficient * value[k];
            }
            for (int j = 0; j < w.Length; j++) w[j] -= options.StepSize * (grad[j] + options.L2 * w[j]);
        }
        return new ResponseOnlyBaseline(vocabulary, w);
    }

    /// <summary>The baseline's reward of a response (features unseen in training count zero).</summary>
    public double Score(string response)
    {
        double r = 0;
        foreach (var f in Features(response))
            if (_vocabulary.TryGetValue(f, out var j)) r += _weights[j];
        return r;
    }

    /// <summary>Preference accuracy on (chosen, rejected) pairs, ties counted half.</summary>
    public double Accuracy(IReadOnlyList<(string Chosen, string Rejected)> pairs)
    {
        PreferenceMetrics.RequireNonEmpty(pairs.Count);
        return PreferenceMetrics.Accuracy(pairs.Select(p => Score(p.Chosen) - Score(p.Rejected)).ToArray());
    }

    /// <summary>Lower-cased tokens (runs of letters, runs of digits, single other non-space characters) and their bigrams.</summary>
    internal static List<string> Features(string text)
    {
        var tokens = new List<string>();
        var sb = new StringBuilder();
        int kind = 0; // 0 none, 1 letters, 2 digits
        void Flush() { if (sb.Length > 0) { tokens.Add(sb.ToString()); sb.Clear(); } kind = 0; }
        foreach (var raw in text)
        {
            var c = char.ToLowerInvariant(raw);
            int k = char.IsLetter(c) ? 1 : char.IsDigit(c) ? 2 : 0;
            if (k == 0)
            {
                Flush();
                if (!char.IsWhiteSpace(c)) tokens.Add(c.ToString(CultureInfo.InvariantCulture));
                continue;
            }
            if (k != kind) Flush();
            kind = k;
            sb.Append(c);
        }
        Flush();
        int n = tokens.Count;
        for (int i = 0; i + 1 < n; i++) tokens.Add(tokens[i] + "_" + tokens[i + 1]);
        return tokens;
    }

    static int Id(Dictionary<string, int> vocabulary, string feature)
    {
        if (!vocabulary.TryGetValue(feature, out var id)) vocabulary[feature] = id = vocabulary.Count;
        return id;
    }

    static void Add(Dictionary<int, double> d, int key, double v) => d[key] = d.GetValueOrDefault(key) + v;

}
