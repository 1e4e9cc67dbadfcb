using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors.Optim;
using RewardKit.Text;

namespace RewardKit.Training;

/// <summary>The causal-LM loss of a right-padded batch over its response tokens (a model's <c>LanguageModelLoss</c> with responseOnly).</summary>
internal delegate Tensor ResponseLanguageModelLoss(Tape tape, TokenBatch batch, Rng dropoutRng);

/// <summary>The settings of an SFT run: peak learning rate, sequences per step, seed of the data order, clipping, weight decay.</summary>
internal sealed record SftSettings(double LearningRate, int BatchSize, ulong Seed, double MaxGradNorm, double WeightDecay, double WarmupRatio = 0.05);

/// <summary>
/// Supervised fine-tuning as a causal LM on response tokens, one <see cref="TrainingStep"/> at a time: AdamW with its own
/// state (peak <see cref="SftSettings.LearningRate"/>, warm-up then cosine decay, clipping and weight decay), batches of
/// <see cref="SftSettings.BatchSize"/> sequences in a seeded length-bucketed order, the loss on the response tokens only.
/// Two callers: the reward trainer's SFT warm start on chosen responses (<see cref="ForRewardModel(RewardTrainingOptions, GptRewardModel, IReadOnlyList{EncodedPair}, int, Tape, WorkerPool, Rng, long, WarmStartState, DataParallel?)"/>, see
/// <see cref="RewardTrainingOptions.SftSteps"/>) and <see cref="PolicySftTrainer"/> (<c>rewardkit sft</c>). Its position
/// (<see cref="Position"/>) and optimiser state are what a checkpoint needs to continue it. As one rank of a
/// data-parallel job (<see cref="DataParallel"/>) it takes its shard of every batch, weighted by its share of the
/// predicted tokens (the loss is a mean over them), and sums gradients over the ranks.
/// </summary>
internal sealed class SftWarmStart
{
    readonly ResponseLanguageModelLoss _loss;
    readonly IReadOnlyList<EncodedSequence> _sequences;
    readonly int[] _lengths;
    readonly SftSettings _settings;
    readonly int _padId;
    readonly Rng _dropoutRng;
    readonly TrainingStep _step;
    readonly DataParallel _dp;
    BatchPlan _plan;

    /// <summary>A run of <paramref name="steps"/> steps over <paramref name="parameters"/>, at <paramref name="position"/> (step 0 for a new one).</summary>
    /// <param name="parameters">What the steps train.</param>
    /// <param name="loss">The response-only causal-LM loss of a batch.</param>
    /// <param name="sequences">[prompt ; response (; end-of-text)] with ResponseStart.</param>
    /// <param name="settings">Learning rate, batch size, seed, clipping, weight decay.</param>
    /// <param name="padId">Pads the batches.</param>
    /// <param name="tape">The recording tape.</param>
    /// <param name="pool">Threads.</param>
    /// <param name="dropoutRng">Dropout masks (its state belongs in the caller's checkpoint).</param>
    /// <param name="steps">Steps of the whole run.</param>
    /// <param name="position">Where the run is (updated by <see cref="Next"/>).</param>
    /// <param name="onDiverged">The exception for a non-finite loss or gradient norm (the caller's hint).</param>
    /// <param name="dp">The data-parallel job this process is a rank of (default: one process).</param>
    public SftWarmStart(ParameterSet parameters, ResponseLanguageModelLoss loss, IReadOnlyList<EncodedSequence> sequences, SftSettings settings,
        int padId, Tape tape, WorkerPool pool, Rng dropoutRng, long steps, WarmStartState position, Func<Divergence, Exception> onDiverged,
        DataParallel? dp = null)
    {
        _dp = dp ?? DataParallel.SingleProcess(settings.Seed);
        _loss = loss;
        _sequences = sequences;
        _lengths = [.. sequences.Select(s => s.Length)];
        _settings = settings;
        _padId = padId;
        _dropoutRng = dropoutRng;
        Steps = steps;
        Position = position;
        Optimizer = new AdamW(parameters, settings.LearningRate, weightDecay: settings.WeightDecay, pool: pool);
        var schedule = LearningRateSchedule.CosineWithWarmup(settings.LearningRate, (long)Math.Ceiling(settings.WarmupRatio * steps), steps);
        _step = new TrainingStep(parameters, Optimizer, tape, schedule, settings.MaxGradNorm, pool) { OnDiverged = onDiverged, GradientReducer = _dp.Reducer };
        _plan = PlanFor(position.Epoch);
    }

    /// <summary>The reward trainer's warm start: the chosen sequences of <paramref name="pairs"/>, with the options' SFT settings.</summary>
    public static SftWarmStart ForRewardModel(RewardTrainingOptions options, GptRewardModel model, IReadOnlyList<EncodedPair> pairs, int padId, Tape tape,
        WorkerPool pool, Rng dropoutRng, long steps, WarmStartState position, DataParallel? dp = null) =>
        ForRewardModel(options, model.Parameters, model.Transformer, pairs, padId, tape, pool, dropoutRng, steps, position, dp);

    /// <summary>As above for any reward model whose <paramref name="parameters"/> hold the GPT-2 body <paramref name="backbone"/> (e.g. a separate-encoder model).</summary>
    public static SftWarmStart ForRewardModel(RewardTrainingOptions options, ParameterSet parameters, GptTransformer backbone, IReadOnlyList<EncodedPair> pairs,
        int padId, Tape tape, WorkerPool pool, Rng dropoutRng, long steps, WarmStartState position, DataParallel? dp = null) =>
        new(parameters, (tape, batch, rng) => backbone.LanguageModelLoss(tape, batch, responseOnly: true, training: true, rng),
            [.. pairs.Select(p => p.Chosen)],
            new SftSettings(options.SftLearningRate, options.SftBatchSize, options.Seed, options.MaxGradNorm, options.WeightDecay),
            padId, tape, pool, dropoutRng, steps, position,
            d => new TrainingDivergedException(
                $"SFT warm-start step {d.Step}: the {d.Quantity} is {d.Value}; lower sft_learning_rate or set sft_steps: 0.", 0, null), dp);

    /// <summary>Steps of the whole run.</summary>
    public long Steps { get; }

    /// <summary>Steps taken, epoch and batch cursor (updated by <see cref="Next"/>).</summary>
    public WarmStartState Position { get; }

    /// <summary>The run's own AdamW (its state goes into a checkpoint).</summary>
    public AdamW Optimizer { get; }

    /// <summary>True when every step has been taken.</summary>
    public bool Done => Position.Step >= Steps;

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => _plan.Batches.Count;

    /// <summary>Epochs done, with the fraction of the current one.</summary>
    public double Epoch => Position.Epoch + (double)Position.BatchCursor / _plan.Batches.Count;

    /// <summary>Takes the next step.</summary>
    public TrainingStepResult Next()
    {
        var result = _step.Run(Position.Step, 1, (tape, _) =>
        {
            if (Position.BatchCursor >= _plan.Batches.Count) { _plan = PlanFor(++Position.Epoch); Position.BatchCursor = 0; }
            var (rows, _, share) = _dp.Shard(_plan.Batches[Position.BatchCursor++], i => PredictedTokens(_sequences[i]));
            if (rows.Length == 0) return DataParallel.NoRows(tape);
            var batch = TokenBatch.FromSequences(rows.Select(i => _sequences[i].Ids).ToArray(), _padId,
                rows.Select(i => _sequences[i].ResponseStart).ToArray());
            var loss = _loss(tape, batch, _dp.Dropout(_dropoutRng, -1 - Position.Step, 0));
            return DataParallel.ScaledLoss(tape, loss, share, batch.Lengths.Sum());
        });
        Position.Step++;
        return result;
    }

    /// <summary>The warm start's metrics row in a reward run (<c>step</c> 0, <c>sft_step</c>, <c>sft_loss</c>, ...).</summary>
    public Dictionary<string, double> WarmStartRow(TrainingStepResult result) => new()
    {
        ["step"] = 0, ["sft_step"] = Position.Step, ["sft_loss"] = result.Loss, ["grad_norm"] = result.GradNorm,
        ["learning_rate"] = result.LearningRate, ["tokens_per_s"] = Math.Round(result.TokensPerSecond, 1), ["world_size"] = _dp.Size,
    };

    /// <summary>The tokens whose next token the response-only loss predicts (its mean is over these).</summary>
    static float PredictedTokens(EncodedSequence s) => Math.Max(0, s.Ids.Length - 1 - Math.Max(0, s.ResponseStart - 1));

    BatchPlan PlanFor(int epoch) => PlanFor(_lengths, _settings, epoch);

    /// <summary>The seeded, length-bucketed batch order of epoch <paramref name="epoch"/> (its count is the same every epoch).</summary>
    public static BatchPlan PlanFor(IReadOnlyList<int> lengths, SftSettings settings, int epoch) => Text.LengthBuckets.Plan(lengths, new BatchingOptions
    {
        BatchSize = settings.BatchSize, BucketBatches = TrainingRun.BucketBatches, Shuffle = true,
        Seed = unchecked((int)(settings.Seed * 7_919UL) + epoch),
    });
}
