using RewardKit.IO;
using RewardKit.Models;
using RewardKit.Models.Separate;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Text;

namespace RewardKit.Training;

/// <summary>
/// A separate-encoder reward model (<see cref="SeparateEncoderRewardModel"/>) in the training loop: each pair's encoded
/// <c>[prompt ; response]</c> is split at its response start; the batch's distinct prompts are encoded once and each
/// chosen and rejected response apart, then fused.
/// </summary>
internal sealed class TrainableSeparate : ITrainableRewardModel
{
    readonly ByteLevelBpeTokenizer _tokenizer;
    readonly WorkerPool _pool;
    readonly int _scoringBatch;
    readonly int _padId;

    /// <summary>Wraps <paramref name="model"/>; scoring runs on <paramref name="pool"/> in batches of <paramref name="scoringBatch"/> pairs.</summary>
    public TrainableSeparate(SeparateEncoderRewardModel model, ByteLevelBpeTokenizer tokenizer, WorkerPool pool, int scoringBatch)
    {
        Model = model;
        _tokenizer = tokenizer;
        _pool = pool;
        _scoringBatch = scoringBatch;
        _padId = Math.Max(0, tokenizer.PadId);
    }

    /// <summary>The model.</summary>
    public SeparateEncoderRewardModel Model { get; }

    /// <inheritdoc/>
    public ParameterSet Parameters => Model.Parameters;

    /// <inheritdoc/>
    public int StatisticsPairs => RewardTrainer.StatisticsPairs;

    /// <inheritdoc/>
    public (Tensor Chosen, Tensor Rejected, long Tokens) Forward(Tape tape, IReadOnlyList<EncodedPair> batch, Rng dropout)
    {
        var (prompts, responses, promptOf) = Halves(batch);
        var rewards = Model.Forward(tape, prompts, responses, promptOf, training: true, dropout);   // (2B)
        var halves = tape.Split(rewards, [batch.Count, batch.Count], 0);                              // (B), (B)
        return (halves[0], halves[1], prompts.Lengths.Sum() + responses.Lengths.Sum());
    }

    /// <inheritdoc/>
    public (float[] Chosen, float[] Rejected) Score(IReadOnlyList<EncodedPair> pairs, CancellationToken ct)
    {
        var chosen = new float[pairs.Count];
        var rejected = new float[pairs.Count];
        var tape = new Tape(_pool) { RecordsGradients = false };
        for (int first = 0; first < pairs.Count; first += _scoringBatch)
        {
            ct.ThrowIfCancellationRequested();
            int count = Math.Min(_scoringBatch, pairs.Count - first);
            var (prompts, responses, promptOf) = Halves([.. pairs.Skip(first).Take(count)]);
            var rewards = Model.Forward(tape, prompts, responses, promptOf).Data;                   // (2·count)
            rewards[..count].CopyTo(chosen.AsSpan(first));
            rewards.Slice(count, count).CopyTo(rejected.AsSpan(first));
            tape.Reset();
        }
        return (chosen, rejected);
    }

    /// <summary>The distinct prompts, the responses (chosen rows [0, B), rejected [B, 2B)) and each response's prompt row.</summary>
    (TokenBatch Prompts, TokenBatch Responses, int[] PromptOf) Halves(IReadOnlyList<EncodedPair> pairs)
    {
        int n = pairs.Count, filler = Math.Max(0, _tokenizer.EndOfTextId);
        var prompts = new List<int[]>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var responses = new int[2 * n][];
        var promptOf = new int[2 * n];
        for (int i = 0; i < 2 * n; i++)
        {
            var sequence = i < n ? pairs[i].Chosen : pairs[i - n].Rejected;
            var (prompt, response) = SeparateEncoderRewardModel.Split(sequence.Ids, sequence.ResponseStart, filler);
            var key = string.Join(',', prompt);
            if (!index.TryGetValue(key, out var row)) { row = prompts.Count; index[key] = row; prompts.Add(prompt); }
            responses[i] = response;
            promptOf[i] = row;
        }
        return (TokenBatch.FromSequences(prompts, _padId), TokenBatch.FromSequences(responses, _padId), promptOf);
    }

    /// <inheritdoc/>
    public void Save(string directory, RewardModelMetadata metadata) => SeparateEncoderFolder.Save(Model, directory, metadata, writeExtra: _tokenizer.Save);

    /// <inheritdoc/>
    public void Dispose() { }
}
