using System.Collections.Concurrent;
using RewardKit.IO;
using RewardKit.Models.MultiObjective;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Inference;

/// <summary>
/// <see cref="IRewardModel"/> over a <see cref="GptRewardModel"/>: inference-mode tapes (RecordsGradients off) kept in a
/// pool so concurrent calls each use their own, reset after every batch. <see cref="Encode"/> is the encoder given
/// (the prompt template plus tokenizer, wired by the caller).
/// </summary>
public sealed class GptRewardScorer : IRewardModel
{
    readonly GptRewardModel _model;
    readonly Func<string, string, int[]> _encoder;
    readonly WorkerPool? _pool;
    readonly ConcurrentBag<Tape> _tapes = [];

    /// <summary>
    /// Wraps <paramref name="model"/>; <paramref name="maxBatch"/> sequences are scored per forward pass. A mean-pooled model
    /// can only be scored with response starts (the <see cref="IRewardModel"/> method refuses it).
    /// </summary>
    public GptRewardScorer(GptRewardModel model, RewardModelMetadata metadata, Func<string, string, int[]> encoder, WorkerPool? pool = null, int maxBatch = 32)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        Metadata = metadata ?? throw new ArgumentNullException(nameof(metadata));
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), "must be at least 1.");
        _pool = pool;
        MaxBatch = maxBatch;
    }

    /// <summary>
    /// Wraps <paramref name="model"/> with the encoder it was trained with (template, tokenizer, maximum length), which
    /// <see cref="Sequences"/> exposes to callers that render texts themselves (conversations).
    /// </summary>
    public GptRewardScorer(GptRewardModel model, RewardModelMetadata metadata, SequenceEncoder encoder, WorkerPool? pool = null, int maxBatch = 32)
        : this(model, metadata, EncoderOf(encoder), pool, maxBatch) => Sequences = encoder;

    static Func<string, string, int[]> EncoderOf(SequenceEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        return (prompt, response) => encoder.Encode(prompt, response)?.Ids
            ?? throw new InvalidDataException("the prompt and response could not be fitted into the model's maximum length.");
    }

    /// <summary>The encoder behind <see cref="Encode"/>, when the scorer was built with one (the model loader does).</summary>
    public SequenceEncoder? Sequences { get; }

    /// <summary>The model scored.</summary>
    public GptRewardModel Model => _model;

    /// <summary>
    /// The rewards read at several positions of each sequence in one forward pass per batch: <paramref name="positions"/>[i]
    /// lists token indices of <paramref name="sequences"/>[i]; the rewards go into <paramref name="rewards"/> in that order
    /// (sequence by sequence). For a causal model the reward at token t equals the reward of the sequence's first t + 1
    /// tokens scored alone.
    /// </summary>
    public void ScoreAtPositions(IReadOnlyList<int[]> sequences, IReadOnlyList<int[]> positions, Span<float> rewards, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(positions);
        if (_model.Outputs != 1)
            throw new NotSupportedException($"GptRewardScorer: the model has {_model.Outputs} outputs (objectives); rewards at positions are read from scalar models.");
        if (positions.Count != sequences.Count)
            throw new ArgumentException($"ScoreAtPositions: {positions.Count} position lists for {sequences.Count} sequences.", nameof(positions));
        if (rewards.Length != positions.Sum(p => p.Length))
            throw new ArgumentException($"ScoreAtPositions: {rewards.Length} slots for {positions.Sum(p => p.Length)} positions.", nameof(rewards));
        if (!_tapes.TryTake(out var tape)) tape = new Tape(_pool) { RecordsGradients = false };
        try
        {
            int written = 0;
            for (int start = 0; start < sequences.Count; start += MaxBatch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(MaxBatch, sequences.Count - start);
                var batch = TokenBatch.FromSequences(sequences.Skip(start).Take(count).ToArray(), _model.Config.PadTokenId ?? 0);
                var rows = new List<int>();
                for (int i = 0; i < count; i++)
                    foreach (int t in positions[start + i]) rows.Add(i * batch.Time + t);
                try { _model.ForwardOutputsAt(tape, batch, [.. rows]).Data.CopyTo(rewards.Slice(written, rows.Count)); }
                finally { tape.Reset(); }
                written += rows.Count;
            }
        }
        finally { _tapes.Add(tape); }
    }

    /// <summary>Sequences per forward pass.</summary>
    public int MaxBatch { get; }

    /// <inheritdoc />
    public RewardModelMetadata Metadata { get; }

    /// <inheritdoc />
    public int[] Encode(string prompt, string response) => _encoder(prompt, response);

    /// <inheritdoc />
    public void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default)
    {
        if (_model.Pooling != RewardPooling.LastToken)
            throw new NotSupportedException("GptRewardScorer: token sequences carry no response start, so only last-token pooling can be served.");
        ScoreTokens(sequences, null, rewards, cancellationToken);
    }

    /// <summary>
    /// As <see cref="ScoreTokens(IReadOnlyList{int[]}, Span{float}, CancellationToken)"/>, with each sequence's first response
    /// token (which mean-over-response pooling needs; null for last-token pooling).
    /// </summary>
    public void ScoreTokens(IReadOnlyList<int[]> sequences, IReadOnlyList<int>? responseStarts, Span<float> rewards, CancellationToken cancellationToken = default)
    {
        if (_model.Outputs != 1)
            throw new NotSupportedException($"GptRewardScorer: the model has {_model.Outputs} outputs (objectives); score it through MultiObjectiveScorer, which combines them.");
        ScoreOutputs(sequences, responseStarts, rewards, cancellationToken);
    }

    /// <summary>
    /// Every head output of every sequence, row-major into <paramref name="outputs"/> (n·K values, K = the model's outputs):
    /// the per-objective rewards of a multi-objective model, the reward of a scalar one.
    /// </summary>
    public void ScoreOutputs(IReadOnlyList<int[]> sequences, IReadOnlyList<int>? responseStarts, Span<float> outputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        int k = _model.Outputs;
        if (outputs.Length != sequences.Count * k)
            throw new ArgumentException($"ScoreOutputs: {outputs.Length} slots for {sequences.Count} sequences of {k} outputs.", nameof(outputs));
        if (responseStarts is not null && responseStarts.Count != sequences.Count)
            throw new ArgumentException($"ScoreTokens: {responseStarts.Count} response starts for {sequences.Count} sequences.", nameof(responseStarts));
        if (!_tapes.TryTake(out var tape)) tape = new Tape(_pool) { RecordsGradients = false };
        try
        {
            for (int start = 0; start < sequences.Count; start += MaxBatch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(MaxBatch, sequences.Count - start);
                var chunk = new int[count][];
                for (int i = 0; i < count; i++) chunk[i] = sequences[start + i];
                int[]? starts = null;
                if (responseStarts is not null)
                {
                    starts = new int[count];
                    for (int i = 0; i < count; i++) starts[i] = responseStarts[start + i];
                }
                var batch = TokenBatch.FromSequences(chunk, _model.Config.PadTokenId ?? 0, starts);
                try { _model.ForwardOutputs(tape, batch).Data.CopyTo(outputs.Slice(start * k, count * k)); }
                finally { tape.Reset(); }
            }
        }
        finally { _tapes.Add(tape); }
    }

    /// <inheritdoc />
    public void Dispose() => _tapes.Clear();
}
