using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.MultiObjective;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors;
using RewardKit.Text;
using RewardKit.Training.Losses;

namespace RewardKit.Training;

/// <summary>
/// A GPT-2 reward model with one head per objective (<see cref="GptRewardModel.Outputs"/> = K), trained with Bradley-Terry per
/// objective on the records' labels (<see cref="ObjectiveBradleyTerry"/>); its reward, for metrics, scoring and evaluation,
/// is the weighted sum of the heads. Saved as a <see cref="MultiObjectiveFolder"/>.
/// </summary>
internal sealed class TrainableMultiObjective : ITrainableRewardModel
{
    readonly ByteLevelBpeTokenizer _tokenizer;
    readonly GptRewardScorer _inner;
    MultiObjectiveScorer _scorer;
    readonly int _scoringBatch;
    Tensor? _outputs;   // (2B, K) of the last Forward, read by Loss on the same tape

    /// <summary>Wraps <paramref name="model"/> (K = <paramref name="objectives"/>' count outputs).</summary>
    public TrainableMultiObjective(GptRewardModel model, RewardObjectives objectives, ByteLevelBpeTokenizer tokenizer, string templateName, int maxLength,
        WorkerPool pool, int scoringBatch)
    {
        if (model.Outputs != objectives.Count) throw new ArgumentException($"the model has {model.Outputs} heads for {objectives.Count} objectives.", nameof(objectives));
        if (model.Pooling != Models.RewardPooling.LastToken) throw new ArgumentException("'pooling': a multi-objective model reads its rewards at the last token; leave pooling at last-token.");
        Model = model;
        Objectives = objectives;
        _tokenizer = tokenizer;
        _scoringBatch = scoringBatch;
        _inner = new GptRewardScorer(model, new RewardModelMetadata { Name = "training", Template = templateName, MaxLength = maxLength },
            (_, _) => throw new InvalidOperationException("the trainer scores encoded pairs"), pool, scoringBatch);
        _scorer = new MultiObjectiveScorer(_inner, objectives);
    }

    /// <summary>The model.</summary>
    public GptRewardModel Model { get; }

    /// <summary>The objectives (head order) and the weights of the combined reward.</summary>
    public RewardObjectives Objectives { get; private set; }

    /// <summary>
    /// Replaces the weights by those that best predict the overall preferences of <paramref name="pairs"/> from the heads'
    /// reward differences (<see cref="ObjectiveWeightFit"/>); returns them.
    /// </summary>
    public IReadOnlyList<double> FitWeights(IReadOnlyList<EncodedPair> pairs, CancellationToken ct)
    {
        var (sequences, _) = PairRows.Of(pairs);
        int k = Objectives.Count, n = pairs.Count;
        var outputs = new float[sequences.Length * k];
        _inner.ScoreOutputs(sequences, null, outputs, ct);
        var differences = new double[n * k];                                                      // (n, K) r_k(chosen) − r_k(rejected)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++) differences[i * k + j] = outputs[i * k + j] - outputs[(n + i) * k + j];
        Objectives = Objectives.WithWeights(ObjectiveWeightFit.Fit(differences, k));
        _scorer = new MultiObjectiveScorer(_inner, Objectives);
        return Objectives.Weights;
    }

    /// <inheritdoc/>
    public ParameterSet Parameters => Model.Parameters;

    /// <inheritdoc/>
    public int StatisticsPairs => RewardTrainer.StatisticsPairs;

    /// <summary>The combined rewards (B), (B); every head's output is kept for <see cref="Loss"/>.</summary>
    public (Tensor Chosen, Tensor Rejected, long Tokens) Forward(Tape tape, IReadOnlyList<EncodedPair> batch, Rng dropout) =>
        TrainableGpt.ForwardPairs(tape, batch, _tokenizer, tokens =>
        {
            _outputs = Model.ForwardOutputs(tape, tokens, training: true, dropout);               // (2B, K)
            var weights = tape.Empty([1, Objectives.Count]);                                     // (1, K) w, no gradient
            for (int k = 0; k < Objectives.Count; k++) weights.Data[k] = (float)Objectives.Weights[k];
            return tape.Linear(_outputs, weights, null).Reshape(2 * batch.Count);                 // (2B) Σ_k w_k r_k
        });

    /// <summary>Bradley-Terry per objective on the labels of <paramref name="batch"/>, over the outputs of the last <see cref="Forward"/>.</summary>
    public Tensor Loss(Tape tape, IReadOnlyList<EncodedPair> batch)
    {
        var outputs = _outputs ?? throw new InvalidOperationException("Loss needs the outputs of Forward on the same tape.");
        int n = batch.Count, k = Objectives.Count;
        var halves = tape.Split(outputs, [n, n], 0);                                              // (B, K), (B, K)
        var labels = new float[n * k];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
                labels[i * k + j] = batch[i].Labels.TryGetValue(Objectives.Names[j], out var s) ? (float)Math.Sign(s) : 0f;
        return ObjectiveBradleyTerry.Loss(tape, halves[0], halves[1], labels).Loss;
    }

    /// <inheritdoc/>
    public (float[] Chosen, float[] Rejected) Score(IReadOnlyList<EncodedPair> pairs, CancellationToken ct)
    {
        var (sequences, _) = PairRows.Of(pairs);
        var rewards = new float[sequences.Length];
        Inference.LengthSortedScoring.Score(_scorer, sequences, rewards, _scoringBatch, ct);
        return (rewards[..pairs.Count], rewards[pairs.Count..]);
    }

    /// <inheritdoc/>
    public void Save(string directory, RewardModelMetadata metadata) =>
        MultiObjectiveFolder.Save(Model, Objectives, directory, metadata, writeExtra: _tokenizer.Save);

    /// <inheritdoc/>
    public void Dispose() => _inner.Dispose();
}
