using System.Collections.Concurrent;
using RewardKit.IO;
using RewardKit.Models.Bert;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Inference;

/// <summary>
/// <see cref="IRewardModel"/> over a <see cref="BertRewardModel"/>: <see cref="Encode"/> makes [CLS] prompt [SEP] response [SEP]
/// (truncated to the model's max_length keeping the prompt's end and the response's start); <see cref="ScoreTokens"/> runs
/// inference-mode tapes kept in a pool so concurrent calls each use their own. Token types come from the first [SEP].
/// </summary>
public sealed class BertRewardScorer : IRewardModel
{
    readonly BertRewardModel _model;
    readonly CrossEncoderSequenceEncoder _encoder;
    readonly WorkerPool? _pool;
    readonly ConcurrentBag<Tape> _tapes = [];

    /// <summary>Wraps <paramref name="model"/>; <paramref name="maxBatch"/> sequences are scored per forward pass.</summary>
    public BertRewardScorer(BertRewardModel model, WordPieceTokenizer tokenizer, RewardModelMetadata metadata, WorkerPool? pool = null, int maxBatch = 32)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentNullException.ThrowIfNull(tokenizer);
        Metadata = metadata ?? throw new ArgumentNullException(nameof(metadata));
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), "must be at least 1.");
        _encoder = new CrossEncoderSequenceEncoder(tokenizer, new SequenceOptions
        {
            MaxLength = Math.Min(metadata.MaxLength, model.Config.MaxPositions), OnOverflow = OverflowPolicy.Truncate,
        });
        _pool = pool;
        MaxBatch = maxBatch;
    }

    /// <summary>Sequences per forward pass.</summary>
    public int MaxBatch { get; }

    /// <inheritdoc />
    public RewardModelMetadata Metadata { get; }

    /// <inheritdoc />
    public int[] Encode(string prompt, string response) =>
        _encoder.Encode(prompt, response)?.Ids ?? throw new InvalidDataException("the prompt and response could not be fitted into the model's maximum length.");

    /// <inheritdoc />
    public void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (rewards.Length != sequences.Count)
            throw new ArgumentException($"ScoreTokens: {rewards.Length} reward slots for {sequences.Count} sequences.", nameof(rewards));
        if (!_tapes.TryTake(out var tape)) tape = new Tape(_pool) { RecordsGradients = false };
        try
        {
            for (int start = 0; start < sequences.Count; start += MaxBatch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(MaxBatch, sequences.Count - start);
                var chunk = new int[count][];
                for (int i = 0; i < count; i++) chunk[i] = sequences[start + i];
                var batch = TokenBatch.FromSequences(chunk, _model.Config.PadTokenId);
                try { _model.Forward(tape, batch).Data.CopyTo(rewards.Slice(start, count)); }
                finally { tape.Reset(); }
            }
        }
        finally { _tapes.Add(tape); }
    }

    /// <summary>Opens a folder written by <see cref="BertModelFolder.Save"/>.</summary>
    public static IRewardModel Load(string modelDirectory, WorkerPool? pool = null)
    {
        if (!Directory.Exists(modelDirectory))
            throw new DirectoryNotFoundException($"{modelDirectory}: model folder not found; pass a folder made by `rewardkit train`.");
        var (model, tokenizer, metadata) = BertModelFolder.Load(modelDirectory);
        return new BertRewardScorer(model, tokenizer, metadata, pool);
    }

    /// <inheritdoc />
    public void Dispose() => _tapes.Clear();
}
