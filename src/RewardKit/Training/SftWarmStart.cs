using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors.Optim;
using RewardKit.Text;

namespace RewardKit.Training;

/// <summary>
/// The SFT warm start of a run (see <see cref="RewardTrainingOptions.SftSteps"/>): AdamW steps with their own optimiser
/// state (peak <see cref="RewardTrainingOptions.SftLearningRate"/>, 5 % warm-up then cosine decay, the run's clipping and
/// weight decay) of the causal-LM loss on the response tokens of the chosen sequences, in a seeded length-bucketed order.
/// Its position (<see cref="Position"/>) and optimiser state are what a checkpoint needs to continue it. As one rank of a
/// data-parallel job (<see cref="DataParallel"/>) it takes its shard of every batch, weighted by its share of the
/// predicted tokens (the loss is a mean over them), and sums gradients over the ranks.
/// </summary>
internal sealed class SftWarmStart
{
    readonly RewardTrainingOptions _options;
    readonly GptRewardModel _model;
    readonly EncodedSequence[] _sequences;
    readonly int[] _lengths;
    readonly int _padId;
    readonly Rng _dropoutRng;
    readonly TrainingStep _step;
    readonly DataParallel _dp;
    BatchPlan _plan;

    /// <summary>
    /// A warm start of <paramref name="steps"/> steps, at <paramref name="position"/> (step 0 for a new one), as one rank of
    /// <paramref name="dp"/> (default: one process).
    /// </summary>
    public SftWarmStart(RewardTrainingOptions options, GptRewardModel model, IReadOnlyList<EncodedPair> pairs, int padId, Tape tape,
        WorkerPool pool, Rng dropoutRng, long steps, WarmStartState position, DataParallel? dp = null)
    {
        _dp = dp ?? DataParallel.SingleProcess(options.Seed);
        _options = options;
        _model = model;
        _sequences = [.. pairs.Select(p => p.Chosen)];
        _lengths = [.. _sequences.Select(s => s.Length)];
        _padId = padId;
        _dropoutRng = dropoutRng;
        Steps = steps;
        Position = position;
        Optimizer = RewardTrainer.CreateOptimizer(model.Parameters, options, pool);
        var schedule = LearningRateSchedule.CosineWithWarmup(options.SftLearningRate, (long)Math.Ceiling(0.05 * steps), steps);
        _step = new TrainingStep(model.Parameters, Optimizer, tape, schedule, options.MaxGradNorm, pool)
        {
            OnDiverged = d => new TrainingDivergedException(
                $"SFT warm-start step {d.Step}: the {d.Quantity} is {d.Value}; lower sft_learning_rate or set sft_steps: 0.", 0, null),
            GradientReducer = _dp.Reducer,
        };
        _plan = PlanFor(position.Epoch);
    }

    /// <summary>Steps of the whole warm start.</summary>
    public long Steps { get; }

    /// <summary>Steps taken, epoch and batch cursor (updated by <see cref="Next"/>).</summary>
    public WarmStartState Position { get; }

    /// <summary>The warm start's own AdamW (its state goes into a checkpoint taken during the warm start).</summary>
    public AdamW Optimizer { get; }

    /// <summary>True when every step has been taken.</summary>
    public bool Done => Position.Step >= Steps;

    /// <summary>Takes the next step and returns its metrics row (<c>step</c> 0, <c>sft_step</c>, <c>sft_loss</c>, ...).</summary>
    public (Dictionary<string, double> Row, TrainingStepResult Result) Next()
    {
        var result = _step.Run(Position.Step, 1, (tape, _) =>
        {
            if (Position.BatchCursor >= _plan.Batches.Count) { _plan = PlanFor(++Position.Epoch); Position.BatchCursor = 0; }
            var (rows, _, share) = _dp.Shard(_plan.Batches[Position.BatchCursor++], i => PredictedTokens(_sequences[i]));
            if (rows.Length == 0) return DataParallel.NoRows(tape);
            var batch = TokenBatch.FromSequences(rows.Select(i => _sequences[i].Ids).ToArray(), _padId,
                rows.Select(i => _sequences[i].ResponseStart).ToArray());
            var loss = _model.LanguageModelLoss(tape, batch, responseOnly: true, training: true, _dp.Dropout(_dropoutRng, -1 - Position.Step, 0));
            return DataParallel.ScaledLoss(tape, loss, share, batch.Lengths.Sum());
        });
        Position.Step++;
        var row = new Dictionary<string, double>
        {
            ["step"] = 0, ["sft_step"] = Position.Step, ["sft_loss"] = result.Loss, ["grad_norm"] = result.GradNorm,
            ["learning_rate"] = result.LearningRate, ["tokens_per_s"] = Math.Round(result.TokensPerSecond, 1), ["world_size"] = _dp.Size,
        };
        return (row, result);
    }

    /// <summary>The tokens whose next token the response-only loss predicts (its mean is over these).</summary>
    static float PredictedTokens(EncodedSequence s) => Math.Max(0, s.Ids.Length - 1 - Math.Max(0, s.ResponseStart - 1));

    BatchPlan PlanFor(int epoch) => Text.LengthBuckets.Plan(_lengths, new BatchingOptions
    {
        BatchSize = _options.SftBatchSize, BucketBatches = TrainingRun.BucketBatches, Shuffle = true,
        Seed = unchecked((int)(_options.Seed * 7_919UL) + epoch),
    });
}
