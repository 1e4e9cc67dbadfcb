using RewardKit.Data;
using RewardKit.Models;
using RewardKit.Models.Bert;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Text;

namespace RewardKit.Evaluation;

/// <summary>Options of <see cref="FrozenEmbeddingProbe"/>.</summary>
public sealed record FrozenEmbeddingProbeOptions
{
    /// <summary>Longest [CLS] prompt [SEP] response [SEP] sequence; longer pairs keep the prompt's end and the response's start. Default 128.</summary>
    public int MaxLength { get; init; } = 128;

    /// <summary>Full-batch gradient-descent iterations of the logistic regression. Default 500.</summary>
    public int Iterations { get; init; } = 500;

    /// <summary>Gradient-descent step size (features are scaled to unit root mean square). Default 0.5.</summary>
    public double StepSize { get; init; } = 0.5;

    /// <summary>L2 penalty λ in mean(−log σ(w·(e_w − e_l))) + λ/2 ‖w‖². Default 1e-2; fixed, never tuned on a test split.</summary>
    public double L2 { get; init; } = 1e-2;

    /// <summary>Sequences per encoder forward pass. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Worker threads (0 = all cores).</summary>
    public int Threads { get; init; }
}

/// <summary>
/// The cheapest use of a pretrained encoder as a reward model: the encoder stays frozen, each (prompt, response) is embedded
/// as its pooled [CLS] prompt [SEP] response [SEP] hidden states (the backbone's own sentence pooling: mean for MiniLM, [CLS] for
/// Arctic), and a linear reward r = w·e is fitted by Bradley-Terry logistic regression on the training pairs
/// (features scaled to unit root mean square, full-batch gradient descent, L2). The gap between this probe and fine-tuning shows how much of a
/// fine-tuned model's accuracy the pretrained features alone give.
/// </summary>
public sealed class FrozenEmbeddingProbe
{
    readonly BertRewardModel _encoder;
    readonly CrossEncoderSequenceEncoder _sequences;
    readonly FrozenEmbeddingProbeOptions _options;
    double[] _weights = [];
    double[] _scale = [];

    /// <summary>A probe on the backbone folder <paramref name="backboneDirectory"/> (config.json, model.safetensors, vocab.txt).</summary>
    public FrozenEmbeddingProbe(string backboneDirectory, BertPooling pooling, FrozenEmbeddingProbeOptions? options = null)
    {
        _options = options ?? new FrozenEmbeddingProbeOptions();
        (_encoder, _) = BertModelFolder.InitializeFrom(backboneDirectory, seed: 0, pooling);
        _sequences = new CrossEncoderSequenceEncoder(WordPieceTokenizer.FromFile(backboneDirectory),
            new SequenceOptions { MaxLength = Math.Min(_options.MaxLength, _encoder.Config.MaxPositions) });
    }

    /// <summary>The pooled embedding (C) of every (prompt, response), in order.</summary>
    public float[][] Embed(IReadOnlyList<(string Prompt, string Response)> items, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        using var pool = new WorkerPool(_options.Threads);
        var tape = new Tape(pool) { RecordsGradients = false };
        var result = new float[items.Count][];
        var ids = items.Select(i => _sequences.Encode(i.Prompt, i.Response)!.Ids).ToArray();
        var order = Inference.LengthSortedScoring.Plan(ids);   // similar lengths together (less padding), longest first (the arena stays flat)
        int C = _encoder.Config.HiddenSize;
        for (int start = 0; start < order.Length; start += _options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rows = order.Skip(start).Take(_options.BatchSize).ToArray();
            var batch = TokenBatch.FromSequences(rows.Select(r => ids[r]).ToArray(), _encoder.Config.PadTokenId);
            var (hidden, _) = _encoder.Encode(tape, batch);
            var pooled = _encoder.Pool(tape, hidden, batch);
            for (int k = 0; k < rows.Length; k++) result[rows[k]] = pooled.Data.Slice(k * C, C).ToArray();
            tape.Reset();
            if ((start / _options.BatchSize) % 20 == 0) progress?.Report($"embedded {Math.Min(start + rows.Length, order.Length)}/{order.Length} sequences");
        }
        return result;
    }

    /// <summary>Fits w on the training pairs (embeddings of each pair's chosen and rejected sequences).</summary>
    public void Fit(IReadOnlyList<PreferencePair> pairs, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) throw new ArgumentException("FrozenEmbeddingProbe.Fit: no training pairs.", nameof(pairs));
        var x = Differences(pairs, progress, cancellationToken);
        int d = x[0].Length;
        // Scaled by the root mean square, not centred: a difference is antisymmetric, so swapping a pair must negate its margin.
        _scale = new double[d];
        for (int j = 0; j < d; j++)
        {
            double s = 0;
            foreach (var row in x) s += row[j] * row[j];
            double rms = Math.Sqrt(s / x.Length);
            _scale[j] = rms > 1e-12 ? rms : 1;
        }
        _weights = new double[d];
        var gradient = new double[d];
        for (int iteration = 0; iteration < _options.Iterations; iteration++)
        {
            Array.Clear(gradient);
            foreach (var row in x)
            {
                double margin = Margin(row);
                double g = -Activations.Sigmoid(-margin) / x.Length;       // d/dm of −log σ(m), averaged
                for (int j = 0; j < d; j++) gradient[j] += g * row[j] / _scale[j];
            }
            for (int j = 0; j < d; j++) _weights[j] -= _options.StepSize * (gradient[j] + _options.L2 * _weights[j]);
        }
    }

    /// <summary>r(e_chosen) − r(e_rejected) for every pair (positive = the chosen response wins).</summary>
    public double[] Margins(IReadOnlyList<PreferencePair> pairs, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        if (_weights.Length == 0) throw new InvalidOperationException("FrozenEmbeddingProbe: call Fit first.");
        return [.. Differences(pairs, progress, cancellationToken).Select(Margin)];
    }

    double Margin(double[] difference)
    {
        double m = 0;
        for (int j = 0; j < difference.Length; j++) m += _weights[j] * difference[j] / _scale[j];
        return m;
    }

    double[][] Differences(IReadOnlyList<PreferencePair> pairs, IProgress<string>? progress, CancellationToken ct)
    {
        var items = new List<(string, string)>(2 * pairs.Count);
        foreach (var p in pairs) { items.Add((p.Prompt, p.Chosen)); items.Add((p.Prompt, p.Rejected)); }
        var e = Embed(items, progress, ct);
        return [.. pairs.Select((_, i) => e[2 * i].Zip(e[2 * i + 1], (c, r) => (double)c - r).ToArray())];
    }
}
