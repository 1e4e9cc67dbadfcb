using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.Lora;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Training;

/// <summary>
/// LoRA adapters (<see cref="LoraRewardModel"/>) over a frozen GPT-2 reward model: the optimiser sees only A, B and the head;
/// scoring runs the base in inference mode with the adapters as its Conv1D path and the adapter's head mirrored into the
/// base's (through <see cref="TrainableGpt"/>); the run saves a PEFT adapter folder over <c>init</c>.
/// </summary>
internal sealed class TrainableLora : ITrainableRewardModel
{
    readonly ByteLevelBpeTokenizer _tokenizer;
    readonly TrainableGpt _scoring;
    readonly string _baseDirectory;

    /// <summary>Wraps <paramref name="model"/>, whose base was loaded from <paramref name="baseDirectory"/>.</summary>
    public TrainableLora(LoraRewardModel model, string baseDirectory, ByteLevelBpeTokenizer tokenizer, string templateName, int maxLength, WorkerPool pool, int scoringBatch)
    {
        Model = model;
        _tokenizer = tokenizer;
        _baseDirectory = baseDirectory;
        model.Base.Conv1DKernel = new LoraConv1D(model, dropout: 0, dropoutRng: null);
        _scoring = new TrainableGpt(model.Base, tokenizer, templateName, maxLength, pool, scoringBatch);
    }

    /// <summary>The adapted model.</summary>
    public LoraRewardModel Model { get; }

    /// <inheritdoc/>
    public ParameterSet Parameters => Model.Parameters;

    /// <inheritdoc/>
    public int StatisticsPairs => RewardTrainer.StatisticsPairs;

    /// <inheritdoc/>
    public (Tensor Chosen, Tensor Rejected, long Tokens) Forward(Tape tape, IReadOnlyList<EncodedPair> batch, Rng dropout) =>
        TrainableGpt.ForwardPairs(tape, batch, _tokenizer, tokens => Model.Forward(tape, tokens, training: true, dropout));

    /// <inheritdoc/>
    public (float[] Chosen, float[] Rejected) Score(IReadOnlyList<EncodedPair> pairs, CancellationToken ct)
    {
        Model.ScoreWeight.Data.CopyTo(Model.Base.ScoreWeight.Data);   // the base's (frozen, unused in training) head mirrors the adapter's
        return _scoring.Score(pairs, ct);
    }

    /// <inheritdoc/>
    public void Save(string directory, RewardModelMetadata metadata) =>
        LoraAdapterFolder.Save(Model, directory, _baseDirectory, metadata, writeExtra: _tokenizer.Save);

    /// <inheritdoc/>
    public void Dispose() => _scoring.Dispose();
}
