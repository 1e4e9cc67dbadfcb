using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.Bert;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Training;

/// <summary>
/// The model seam of <see cref="TrainingRun"/>: what the one training loop needs from a reward model, whichever
/// architecture it is (GPT-2 from scratch or from a checkpoint, a pretrained BERT cross-encoder). Data checks, batching,
/// the optimiser step, metrics rows, evaluation, best-model selection and reward statistics stay in the run.
/// </summary>
internal interface ITrainableRewardModel : IDisposable
{
    /// <summary>Everything the optimiser trains.</summary>
    ParameterSet Parameters { get; }

    /// <summary>How many training pairs the stored reward mean/std/histogram are estimated from (a forward pass of a big encoder costs more).</summary>
    int StatisticsPairs { get; }

    /// <summary>
    /// The rewards of a batch of pairs as 2B rows (chosen rows [0, B), rejected rows [B, 2B)), in training mode (dropout
    /// from <paramref name="dropout"/>), recorded on <paramref name="tape"/>.
    /// </summary>
    /// <returns>Chosen (B), rejected (B) and the tokens the batch holds.</returns>
    (Tensor Chosen, Tensor Rejected, long Tokens) Forward(Tape tape, IReadOnlyList<EncodedPair> batch, Rng dropout);

    /// <summary>The reward of every pair's chosen and rejected sequence, each alone, in inference mode, through the inference scorer.</summary>
    (float[] Chosen, float[] Rejected) Score(IReadOnlyList<EncodedPair> pairs, CancellationToken ct);

    /// <summary>Writes the model folder (weights, config, tokenizer, <paramref name="metadata"/>) to <paramref name="directory"/>.</summary>
    void Save(string directory, RewardModelMetadata metadata);
}

/// <summary>Sequences of pairs as scorer input: chosen sequences [0, n), rejected [n, 2n).</summary>
internal static class PairRows
{
    /// <summary>The 2n sequences and where each one's response starts.</summary>
    public static (int[][] Rows, int[] Starts) Of(IReadOnlyList<EncodedPair> pairs)
    {
        int n = pairs.Count;
        var rows = new int[2 * n][];
        var starts = new int[2 * n];
        for (int i = 0; i < n; i++)
        {
            rows[i] = pairs[i].Chosen.Ids; starts[i] = pairs[i].Chosen.ResponseStart;            // rows [0, B): chosen
            rows[n + i] = pairs[i].Rejected.Ids; starts[n + i] = pairs[i].Rejected.ResponseStart; // rows [B, 2B): rejected
        }
        return (rows, starts);
    }
}

/// <summary>A GPT-2 reward model (<see cref="GptRewardModel"/>) with its byte-level BPE tokenizer.</summary>
internal sealed class TrainableGpt : ITrainableRewardModel
{
    readonly ByteLevelBpeTokenizer _tokenizer;
    readonly GptRewardScorer _scorer;

    /// <summary>Wraps <paramref name="model"/>; scoring runs on <paramref name="pool"/> in batches of <paramref name="scoringBatch"/> sequences.</summary>
    public TrainableGpt(GptRewardModel model, ByteLevelBpeTokenizer tokenizer, string templateName, int maxLength, WorkerPool pool, int scoringBatch)
    {
        Model = model;
        _tokenizer = tokenizer;
        _scorer = new GptRewardScorer(model, new RewardModelMetadata { Name = "training", Template = templateName, MaxLength = maxLength },
            (_, _) => throw new InvalidOperationException("the trainer scores encoded pairs"), pool, scoringBatch);
    }

    /// <summary>The model.</summary>
    public GptRewardModel Model { get; }

    /// <inheritdoc/>
    public ParameterSet Parameters => Model.Parameters;

    /// <inheritdoc/>
    public int StatisticsPairs => RewardTrainer.StatisticsPairs;

    /// <inheritdoc/>
    public (Tensor Chosen, Tensor Rejected, long Tokens) Forward(Tape tape, IReadOnlyList<EncodedPair> batch, Rng dropout) =>
        ForwardPairs(tape, batch, _tokenizer, tokens => Model.Forward(tape, tokens, training: true, dropout));

    /// <summary>
    /// The pairs as one right-padded batch (chosen rows, then rejected rows) through <paramref name="forward"/>, split into the
    /// chosen and rejected rewards; shared by every GPT-2 trainable (full or LoRA).
    /// </summary>
    internal static (Tensor Chosen, Tensor Rejected, long Tokens) ForwardPairs(Tape tape, IReadOnlyList<EncodedPair> batch,
        ByteLevelBpeTokenizer tokenizer, Func<TokenBatch, Tensor> forward)
    {
        var (rows, starts) = PairRows.Of(batch);
        var tokens = TokenBatch.FromSequences(rows, Math.Max(0, tokenizer.PadId), starts);
        var rewards = forward(tokens);                                                             // (2B)
        var halves = tape.Split(rewards, [batch.Count, batch.Count], 0);                          // (B), (B)
        return (halves[0], halves[1], tokens.Lengths.Sum());
    }

    /// <summary>
    /// Sequences sorted by length into batches (<see cref="Inference.LengthSortedScoring"/>), each scored by
    /// <see cref="GptRewardScorer"/>; the engine gives a row the same reward whatever else is in its batch.
    /// </summary>
    public (float[] Chosen, float[] Rejected) Score(IReadOnlyList<EncodedPair> pairs, CancellationToken ct)
    {
        var (sequences, starts) = PairRows.Of(pairs);
        var rewards = new float[sequences.Length];
        Inference.LengthSortedScoring.Score(sequences, rewards, _scorer.MaxBatch, (indices, slots) =>
        {
            var batch = new int[indices.Length][];
            var batchStarts = new int[indices.Length];
            for (int k = 0; k < indices.Length; k++) { batch[k] = sequences[indices[k]]; batchStarts[k] = starts[indices[k]]; }
            _scorer.ScoreTokens(batch, batchStarts, slots, ct);
        }, ct);
        return (rewards[..pairs.Count], rewards[pairs.Count..]);
    }

    /// <inheritdoc/>
    public void Save(string directory, RewardModelMetadata metadata) => RewardModelFolder.Save(Model, directory, metadata, writeExtra: _tokenizer.Save);

    /// <inheritdoc/>
    public void Dispose() => _scorer.Dispose();
}

/// <summary>A BERT cross-encoder reward model (<see cref="BertRewardModel"/>) fine-tuned from a pretrained backbone, with its WordPiece tokenizer.</summary>
internal sealed class TrainableBert : ITrainableRewardModel
{
    /// <summary>At most this many training pairs estimate the stored reward mean/std: σ/√2000 ≈ 0.02σ (an encoder forward costs ~50× the tiny GPT-2's).</summary>
    public const int BertStatisticsPairs = 1000;

    readonly BertRewardScorer _scorer;

    /// <summary>Wraps <paramref name="model"/>; scoring runs on <paramref name="pool"/> in batches of <paramref name="scoringBatch"/> sequences.</summary>
    public TrainableBert(BertRewardModel model, WordPieceTokenizer tokenizer, int maxLength, WorkerPool pool, int scoringBatch)
    {
        Model = model;
        Tokenizer = tokenizer;
        _scorer = new BertRewardScorer(model, tokenizer, new RewardModelMetadata { Name = "training", MaxLength = maxLength }, pool, scoringBatch);
    }

    /// <summary>The model.</summary>
    public BertRewardModel Model { get; }

    /// <summary>The backbone's WordPiece tokenizer.</summary>
    public WordPieceTokenizer Tokenizer { get; }

    /// <inheritdoc/>
    public ParameterSet Parameters => Model.Parameters;

    /// <inheritdoc/>
    public int StatisticsPairs => BertStatisticsPairs;

    /// <inheritdoc/>
    public (Tensor Chosen, Tensor Rejected, long Tokens) Forward(Tape tape, IReadOnlyList<EncodedPair> batch, Rng dropout)
    {
        var (rows, _) = PairRows.Of(batch);
        var tokens = TokenBatch.FromSequences(rows, Model.Config.PadTokenId);
        var rewards = Model.Forward(tape, tokens, training: true, dropout);                       // (2B)
        var halves = tape.Split(rewards, [batch.Count, batch.Count], 0);                          // (B), (B)
        return (halves[0], halves[1], tokens.Lengths.Sum());
    }

    /// <summary>Sequences sorted by length into batches (<see cref="Inference.LengthSortedScoring"/>), each scored by <see cref="BertRewardScorer"/>.</summary>
    public (float[] Chosen, float[] Rejected) Score(IReadOnlyList<EncodedPair> pairs, CancellationToken ct)
    {
        var (sequences, _) = PairRows.Of(pairs);
        var rewards = new float[sequences.Length];
        Inference.LengthSortedScoring.Score(_scorer, sequences, rewards, _scorer.MaxBatch, ct);
        return (rewards[..pairs.Count], rewards[pairs.Count..]);
    }

    /// <inheritdoc/>
    public void Save(string directory, RewardModelMetadata metadata) => BertModelFolder.Save(Model, Tokenizer, directory, metadata);

    /// <inheritdoc/>
    public void Dispose() => _scorer.Dispose();

}
