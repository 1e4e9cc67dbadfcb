using System.Diagnostics;
using System.Text.Json;
using RewardKit.Distributed;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Text;
using RewardKit.Training.Losses;
using RewardKit.Tensors.Optim;
using LengthBuckets = RewardKit.Text.LengthBuckets;

namespace RewardKit.Training;

/// <summary>
/// Trains a GPT-2 reward model on preference pairs (TRL's RewardTrainer, without its hidden behaviour):
/// <code>
/// var trainer = new RewardTrainer(options) { Progress = progress };
/// var result = trainer.Train("train.jsonl", "validation.jsonl", "out");   // out/model, out/checkpoint, out/metrics.jsonl
/// </code>
/// Each step takes <see cref="RewardTrainingOptions.BatchSize"/> pairs per micro-batch as 2B rows (chosen rows, then
/// rejected rows) right-padded to the batch's longest, from a length-bucketed, seeded order; AdamW with warm-up and a
/// cosine/linear decay, global-norm clipping, gradient accumulation. The tape is reset after every micro-batch, so
/// memory stays flat. Evaluation runs in inference mode; the best model (by <see cref="RewardTrainingOptions.BestMetric"/>)
/// is the one saved. No console I/O: progress goes to <see cref="Progress"/>, metrics to <c>metrics.jsonl</c> and <see cref="Metrics"/>.
/// </summary>
public sealed class RewardTrainer
{
    /// <summary>Batches per length bucket (see <see cref="LengthBuckets"/>).</summary>
    const int BucketBatches = 8;

    /// <summary>Bins of the training-reward histogram stored for drift monitoring.</summary>
    public const int HistogramBins = 20;

    /// <summary>A trainer for <paramref name="options"/> (validated here).</summary>
    public RewardTrainer(RewardTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options of the run.</summary>
    public RewardTrainingOptions Options { get; }

    /// <summary>Receives start-up checks, every step, evaluations and saves.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Receives every metrics row as written to <c>metrics.jsonl</c> (TRL names; eval rows use <c>eval_</c> names).</summary>
    public Action<IReadOnlyDictionary<string, double>>? Metrics { get; init; }

    /// <summary>Called after each optimiser step with the step number and the model (for tests and custom logging; it may change the weights).</summary>
    public Action<long, GptRewardModel>? AfterStep { get; init; }

    /// <summary>Adjusts the model shape after the preset is sized for the tokenizer (e.g. a smaller width for tests). Default none.</summary>
    public Func<GptConfig, GptConfig>? ConfigureModel { get; init; }

    /// <summary>
    /// The ranks of a data-parallel job (<see cref="Distributed.DistributedLaunch.FromEnvironment"/> under <c>mpirun</c>).
    /// Every rank calls <see cref="Train(IReadOnlyList{string}, string?, string, CancellationToken)"/> with the same
    /// arguments; each computes a contiguous shard of every global batch (<see cref="RewardTrainingOptions.BatchSize"/> pairs
    /// in all, as in one process), gradients are summed with one Allreduce per step, and every rank applies the same update.
    /// Rank 0 alone writes metrics.jsonl, checkpoints and the model folder, and alone reads the checkpoint on resume.
    /// Default: one process.
    /// </summary>
    public ICommunicator Communicator { get; init; } = SingleProcessCommunicator.Instance;

    /// <summary>Test hook: runs inside each checkpoint save just before the rename (it may throw).</summary>
    internal Action? BeforeCheckpointRename { get; init; }

    /// <summary>The metrics file inside the output folder.</summary>
    public const string MetricsFileName = "metrics.jsonl";

    /// <summary>
    /// Trains on <paramref name="trainPath"/>, evaluating on <paramref name="evalPath"/> (optional), writing
    /// <c>OUT/model</c>, <c>OUT/checkpoint</c> and <c>OUT/metrics.jsonl</c>. On cancellation a checkpoint is saved and the
    /// result says <see cref="TrainingResult.Cancelled"/>. A NaN/Inf loss throws <see cref="TrainingDivergedException"/>.
    /// </summary>
    public TrainingResult Train(string trainPath, string? evalPath, string outputDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(trainPath);
        return Train([trainPath], evalPath, outputDirectory, cancellationToken);
    }

    /// <summary>
    /// Trains on the pairs of every file of <paramref name="trainPaths"/> together, in that order (each file may hold pairs,
    /// rankings or ratings, as <see cref="Data.PreferenceReader.ReadPairs"/> reads them); otherwise as
    /// <see cref="Train(string, string?, string, CancellationToken)"/>. A resumed run needs the same files in the same order.
    /// </summary>
    public TrainingResult Train(IReadOnlyList<string> trainPaths, string? evalPath, string outputDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainPaths);
        if (trainPaths.Count == 0) throw new ArgumentException("Train: give at least one training file.", nameof(trainPaths));
        foreach (var path in trainPaths) ArgumentException.ThrowIfNullOrEmpty(path, nameof(trainPaths));
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        string trainPath = string.Join(", ", trainPaths);
        var o = Options with { WorldSize = Communicator.Size };
        var dp = new DataParallel(Communicator, o.Seed);
        if (dp.Size > 1 && o.UseWeights && o.CenterRewardsCoefficient > 0)
            throw new ArgumentException("training options 'use_weights' with 'center_rewards_coefficient' > 0 cannot be split exactly over several ranks (one loss is a weighted mean, the other a plain mean); drop one, or train in one process.");
        if (dp.IsRoot) Directory.CreateDirectory(outputDirectory);
        var checkpointDir = Path.Combine(outputDirectory, "checkpoint");
        var modelDir = Path.Combine(outputDirectory, "model");
        TrainingCheckpoint.Contents? resumed = null;
        if (o.Resume) resumed = dp.ShareCheckpoint(dp.IsRoot ? TrainingCheckpoint.Load(checkpointDir) : null);

        // ---- data ---------------------------------------------------------------------------------------------
        var trainFiles = new List<ReadFile>();
        foreach (var path in trainPaths)
        {
            Say($"reading {path}");
            var (pairs, report) = TrainingData.Read(path, o, cancellationToken);
            trainFiles.Add(new ReadFile(path, pairs, report));
        }
        if (dp.Size > 1)
            Communicator.RequireSameEverywhere("the training data's sha256", TrainingData.Sha256(trainPaths), "every rank must read the same files in the same order: copy them to the same paths on every machine.");
        var trainPairs = trainFiles.SelectMany(f => f.Pairs).ToList();
        var templateName = TrainingData.ChooseTemplate(o, trainPairs);
        var template = PromptTemplate.FromName(templateName);
        var tokenizer = resumed is null ? LoadOrTrainTokenizer(trainPairs, template, cancellationToken)
            : dp.ShareTokenizer(Path.Combine(checkpointDir, TrainingCheckpoint.TokenizerFolder));
        if (resumed is null) dp.RequireSameTokenizer(tokenizer);
        var encoder = new SequenceEncoder(tokenizer, new SequenceOptions { MaxLength = o.MaxLength, OnOverflow = (OverflowPolicy)o.OnOverflow }, template);
        var train = TrainingData.Encode("train", trainFiles, encoder, cancellationToken);
        EncodedSplit? eval = null;
        if (evalPath is not null)
        {
            var (evalPairs, evalReport) = TrainingData.Read(evalPath, o, cancellationToken);
            eval = TrainingData.Encode("eval", [new ReadFile(evalPath, evalPairs, evalReport)], encoder, cancellationToken);
        }
        if (resumed is not null && resumed.State.TrainDataSha256 != train.Sha256)
            throw new InvalidDataException($"{trainPath}: the training data changed since the checkpoint in {checkpointDir} (sha256 {train.Sha256[..12]}… vs {resumed.State.TrainDataSha256[..Math.Min(12, resumed.State.TrainDataSha256.Length)]}…); resume with the same files in the same order, or train without --resume.");
        Say($"template {templateName}; tokenizer {tokenizer.VocabSize} tokens, pad id {tokenizer.PadId}, end-of-text id {tokenizer.EndOfTextId}"
            + (tokenizer.PadId >= 0 && tokenizer.PadId == tokenizer.EndOfTextId ? " (pad == EOS: harmless here, the reward is read at each row's length, not by searching for pad)" : " (pad != EOS)"));
        foreach (var split in eval is null ? new[] { train } : [train, eval])
            foreach (var checks in split.Checks)
                foreach (var line in checks.Lines()) Say(line);

        // ---- model --------------------------------------------------------------------------------------------
        var pooling = o.Pooling == RewardPooling.MeanResponse ? Models.RewardPooling.MeanResponse : Models.RewardPooling.LastToken;
        var model = CreateModel(tokenizer, pooling);
        Say($"model {model.Config} ({model.ParameterCount:N0} parameters), {o.Loss} loss");
        var parameters = model.Parameters;
        using var pool = new WorkerPool(o.Threads);
        var adam = CreateOptimizer(parameters, o, pool);
        var dropoutRng = new Rng(o.Seed ^ 0x5DEECE66DUL);
        var state = new TrainingState { TrainDataSha256 = train.Sha256, OptionsYaml = o.ToYaml() };
        float[]? best = null;
        if (resumed is not null)
        {
            if (resumed.Parameters.Length != parameters.Count)
                throw new InvalidDataException($"{checkpointDir}: the checkpoint has {resumed.Parameters.Length} parameters but this model has {parameters.Count}; resume with the options of the original run.");
            resumed.Parameters.CopyTo(parameters.Values);
            adam.LoadState(resumed.Optimizer);
            state = resumed.State;
            dropoutRng.SetState(state.DropoutRng);
            best = resumed.Best;
            Say($"resumed from {checkpointDir} at step {state.Step}");
        }
        dp.ShareParameters(parameters);   // every rank starts from rank 0's weights
        if (dp.Size > 1) Say($"data-parallel over {dp.Size} ranks: each takes its share of every batch of {o.BatchSize} pairs; one Allreduce of {parameters.Count:N0} gradients per step");

        // ---- schedule -----------------------------------------------------------------------------------------
        var lengths = train.Pairs.Select(p => p.MaxLength).ToArray();
        BatchPlan PlanFor(int epoch) => LengthBuckets.Plan(lengths, new BatchingOptions
        {
            BatchSize = o.BatchSize, BucketBatches = BucketBatches, Shuffle = true, Seed = unchecked((int)(o.Seed * 1_000_003UL) + epoch),
        });
        var plan = PlanFor(state.Epoch);
        int accum = o.GradientAccumulationSteps;
        long totalSteps = o.MaxSteps > 0 ? o.MaxSteps : (long)Math.Ceiling(o.Epochs * (double)plan.Batches.Count / accum);
        long warmup = (long)Math.Ceiling(o.WarmupRatio * totalSteps);
        var schedule = o.Schedule switch
        {
            "linear" => LearningRateSchedule.LinearWithWarmup(o.LearningRate, warmup, totalSteps),
            "constant" => LearningRateSchedule.Constant(o.LearningRate),
            _ => LearningRateSchedule.CosineWithWarmup(o.LearningRate, warmup, totalSteps),
        };
        Say($"{train.Pairs.Count} pairs, {plan.Batches.Count} batches of {o.BatchSize} pairs per epoch ({plan.PaddingFraction:P1} padding), "
            + $"{totalSteps} steps, warm-up {warmup}, {o.Schedule} decay");

        // ---- loop ---------------------------------------------------------------------------------------------
        var tape = new Tape(pool) { GarbageBudgetBytes = Tape.TrainingGarbageBudgetBytes };   // resident memory flat over steps
        var evalTape = new Tape(pool) { RecordsGradients = false };
        var metricsPath = Path.Combine(outputDirectory, MetricsFileName);
        if (dp.IsRoot) PrepareMetricsFile(metricsPath, resumed is null ? -1 : state.Step);
        using var metricsFile = dp.IsRoot ? new StreamWriter(metricsPath, append: true) { AutoFlush = true } : null;
        var losses = new List<double>();
        Dictionary<string, double> lastTrain = [], bestEval = [];
        string? lastCheckpoint = resumed is null ? null : checkpointDir;
        long lastCheckpointStep = state.Step;
        bool stoppedEarly = false, evaluatedAtLastStep = false;
        var step = new TrainingStep(parameters, adam, tape, schedule, o.MaxGradNorm, pool) { OnDiverged = d => Diverged(d.Quantity, d.Value), GradientReducer = dp.Reducer };

        void Checkpoint()
        {
            Report(TrainingStage.Saving, state.Step, totalSteps, losses.LastOrDefault(double.NaN), adam.LearningRate, $"checkpoint at step {state.Step}");
            state.DropoutRng = dropoutRng.GetState();
            dp.RequireSameParameters(parameters, state.Step);
            if (dp.IsRoot)
                TrainingCheckpoint.Save(checkpointDir, new TrainingCheckpoint.Contents(state, parameters.Values.ToArray(), adam.SaveState(), best),
                    tokenizer, BeforeCheckpointRename);
            lastCheckpoint = checkpointDir;
            lastCheckpointStep = state.Step;
        }

        void Emit(Dictionary<string, double> row)
        {
            if (metricsFile is null) return;   // rank 0 alone writes metrics
            metricsFile.WriteLine(JsonSerializer.Serialize(row));
            Metrics?.Invoke(row);
        }

        // ---- SFT warm start (from scratch only; a resumed run has it in its checkpoint) ----------------------------
        long sftSteps = resumed is null ? o.SftStepsFor(totalSteps) : 0;
        if (sftSteps > 0)
        {
            if (!WarmStart(tape, model, train, tokenizer, sftSteps, pool, dropoutRng, dp, Emit, cancellationToken))
                return Result(modelDir: null, cancelled: true) with { CheckpointWritten = false };
            Checkpoint();   // step 0, after the warm start: --resume from here does not repeat it
        }

        bool stopAgreed = false;   // with several ranks, the previous step's Allreduce says whether any rank was cancelled
        while (state.Step < totalSteps)
        {
            if (dp.Size == 1 ? cancellationToken.IsCancellationRequested : stopAgreed)
            {
                Checkpoint();
                return Result(modelDir: null, cancelled: true);
            }
            var rewards = new List<DataParallel.MicroRewards>(accum);
            var result = step.Run(state.Step, accum, (tape, micro) =>
            {
                if (state.BatchCursor >= plan.Batches.Count)
                {
                    state.Epoch++;
                    state.BatchCursor = 0;
                    plan = PlanFor(state.Epoch);
                }
                var global = plan.Batches[state.BatchCursor++].Select(i => train.Pairs[i]).ToArray();
                var (batch, share) = dp.Shard(global, o.UseWeights ? p => p.Weight : null);   // this rank's pairs, their share of the loss
                var part = dp.Size == 1 ? Range.All : Communicator.Shard(global.Length);
                if (batch.Length == 0)
                {
                    rewards.Add(new DataParallel.MicroRewards(global.Length, part, [], []));
                    return new MicroBatchLoss(tape.Zeros([1], requiresGrad: true), 0);   // no rows here: adds nothing to the gradient
                }
                var (chosen, rejected, tokenBatch) = Forward(tape, model, batch, tokenizer, training: true, dp.Dropout(dropoutRng, state.Step, micro));
                var loss = Loss(tape, chosen, rejected, batch, model, withL2: true);
                rewards.Add(new DataParallel.MicroRewards(global.Length, part, chosen.ToArray(), rejected.ToArray()));
                return new MicroBatchLoss(share == 1f ? loss : tape.Scale(loss, share), tokenBatch.Lengths.Sum());
            });
            double lossSum = result.Loss, lr = result.LearningRate, gradNorm = result.GradNorm;
            state.Step++;
            losses.Add(lossSum);

            var (chosenRewards, rejectedRewards, tokens, stop) = dp.CombineStep(rewards, result.Tokens, cancellationToken.IsCancellationRequested);
            stopAgreed = stop;
            var m = PreferenceMetrics.Compute(chosenRewards, rejectedRewards);
            lastTrain = new Dictionary<string, double>
            {
                ["step"] = state.Step,
                ["epoch"] = Math.Round(state.Epoch + (double)state.BatchCursor / plan.Batches.Count, 4),
                ["loss"] = lossSum,
                ["accuracy"] = m.Accuracy,
                ["margin"] = m.Margin,
                ["mean_reward"] = m.MeanReward,
                ["grad_norm"] = gradNorm,
                ["learning_rate"] = lr,
                ["tokens_per_s"] = Math.Round(tokens / Math.Max(result.Elapsed.TotalSeconds, 1e-9), 1),
                ["world_size"] = dp.Size,
            };
            if (dp.Size > 1) lastTrain["allreduce_ms"] = Math.Round(dp.Reducer.LastReduceTime.TotalMilliseconds, 3);
            Emit(lastTrain);
            Report(TrainingStage.Training, state.Step, totalSteps, lossSum, lr);
            AfterStep?.Invoke(state.Step, model);

            evaluatedAtLastStep = false;
            bool last = state.Step == totalSteps;
            if (eval is not null && ((o.EvalEvery > 0 && state.Step % o.EvalEvery == 0) || last))
            {
                // Not cancellable: a Ctrl+C during evaluation lets it finish, then the next step boundary saves the checkpoint.
                var row = Evaluate(evalTape, model, eval.Pairs, tokenizer, dp, state.Step, CancellationToken.None);
                Emit(row);
                evaluatedAtLastStep = true;
                double score = o.BestMetric == "loss" ? -row["eval_loss"] : row["eval_accuracy"];
                bool improved = state.BestMetric is null || score > state.BestMetric.Value;
                if (improved)
                {
                    state.BestMetric = score;
                    state.BestStep = state.Step;
                    state.EvaluationsWithoutImprovement = 0;
                    best = parameters.Values.ToArray();
                    bestEval = row;
                }
                else state.EvaluationsWithoutImprovement++;
                Report(TrainingStage.Evaluating, state.Step, totalSteps, lossSum, lr,
                    $"step {state.Step}: eval_loss {row["eval_loss"]:F4}, eval_accuracy {row["eval_accuracy"]:F4}, eval_margin {row["eval_margin"]:F3}"
                    + (improved ? " (best)" : $" (best {o.BestMetric} at step {state.BestStep})"));
                if (o.Patience > 0 && state.EvaluationsWithoutImprovement >= o.Patience)
                {
                    stoppedEarly = true;
                    Report(TrainingStage.Evaluating, state.Step, totalSteps, lossSum, lr,
                        $"early stopping: no better {o.BestMetric} in {o.Patience} evaluations; keeping step {state.BestStep}");
                    break;
                }
                if (!last) Checkpoint();
            }
            else if (o.CheckpointEvery > 0 && state.Step % o.CheckpointEvery == 0 && !last) Checkpoint();
        }
        _ = evaluatedAtLastStep;
        Checkpoint();

        // ---- output -------------------------------------------------------------------------------------------
        if (best is not null) best.CopyTo(parameters.Values);
        Report(TrainingStage.Saving, state.Step, totalSteps, losses.LastOrDefault(double.NaN), adam.LearningRate, $"scoring {Math.Min(train.Pairs.Count, StatisticsPairs)} training pairs for the reward statistics");
        var trainRewards = Score(evalTape, model, StatisticsSample(train.Pairs, o.Seed), tokenizer, dp, cancellationToken);
        double mean = trainRewards.Average();
        double std = Math.Sqrt(trainRewards.Sum(r => (r - mean) * (r - mean)) / trainRewards.Length);
        var metadata = new RewardModelMetadata
        {
            Name = Path.GetFileName(Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar)),
            Template = templateName,
            MaxLength = o.MaxLength,
            RewardMean = mean,
            RewardStd = std > 0 ? std : 1,
            RewardHistogram = Histogram(trainRewards, HistogramBins),
            Extra = new Dictionary<string, JsonElement>
            {
                ["training_options"] = JsonSerializer.SerializeToElement(o.ToYaml()),
                ["train_data_sha256"] = JsonSerializer.SerializeToElement(train.Sha256),
                ["train_data_files"] = JsonSerializer.SerializeToElement(trainPaths.Select(Path.GetFileName).ToArray()),
                ["eval_data_sha256"] = JsonSerializer.SerializeToElement(eval?.Sha256),
                ["steps"] = JsonSerializer.SerializeToElement(state.Step),
                ["sft_steps"] = JsonSerializer.SerializeToElement(o.SftStepsFor(totalSteps)),
                ["best_step"] = JsonSerializer.SerializeToElement(best is null ? state.Step : state.BestStep),
                ["final_train_metrics"] = JsonSerializer.SerializeToElement(lastTrain),
                ["final_eval_metrics"] = JsonSerializer.SerializeToElement(bestEval),
            },
        };
        if (dp.IsRoot) RewardModelFolder.Save(model, modelDir, metadata, writeExtra: tokenizer.Save);
        Report(TrainingStage.Saving, state.Step, totalSteps, losses.LastOrDefault(double.NaN), adam.LearningRate,
            $"model saved to {modelDir} (step {(best is null ? state.Step : state.BestStep)}; training rewards mean {mean:F3}, std {std:F3})");
        return Result(modelDir, cancelled: false);

        TrainingResult Result(string? modelDir, bool cancelled) => new()
        {
            ModelDirectory = modelDir, CheckpointDirectory = checkpointDir, Steps = state.Step, Cancelled = cancelled, StoppedEarly = stoppedEarly,
            Checks = eval is null ? train.Checks : [.. train.Checks, .. eval.Checks], FinalTrainMetrics = lastTrain, BestEvalMetrics = bestEval,
            BestStep = best is null ? state.Step : state.BestStep, Losses = losses,
        };

        TrainingDivergedException Diverged(string what, double value) => new(
            $"step {state.Step + 1}: the {what} is {value}; training stopped before applying the update. "
            + (lastCheckpoint is null ? "No checkpoint was written yet. " : $"The last good checkpoint is {lastCheckpoint} (step {lastCheckpointStep}); continue from it with --resume. ")
            + "Lower learning_rate, keep max_grad_norm on, or check the data.",
            state.Step + 1, lastCheckpoint);
    }

    /// <summary>
    /// The SFT warm start: <paramref name="steps"/> AdamW steps (its own optimiser state, peak <see cref="RewardTrainingOptions.SftLearningRate"/>,
    /// 5 % warm-up then cosine decay, the run's clipping and weight decay) of the causal-LM loss on the response tokens of
    /// the chosen sequences, in a seeded length-bucketed order. Emits <c>sft_step</c>/<c>sft_loss</c> rows (with <c>step</c> 0).
    /// Returns false when cancelled (nothing is saved: the run starts again from the beginning).
    /// </summary>
    bool WarmStart(Tape tape, GptRewardModel model, EncodedSplit train, ByteLevelBpeTokenizer tokenizer, long steps, WorkerPool pool,
        Rng dropoutRng, DataParallel dp, Action<Dictionary<string, double>> emit, CancellationToken ct)
    {
        var o = Options;
        var sequences = train.Pairs.Select(p => p.Chosen).ToArray();
        var lengths = sequences.Select(s => s.Length).ToArray();
        BatchPlan PlanFor(int epoch) => LengthBuckets.Plan(lengths, new BatchingOptions
        {
            BatchSize = o.SftBatchSize, BucketBatches = BucketBatches, Shuffle = true, Seed = unchecked((int)(o.Seed * 7_919UL) + epoch),
        });
        var optimizer = CreateOptimizer(model.Parameters, o, pool);
        var schedule = LearningRateSchedule.CosineWithWarmup(o.SftLearningRate, (long)Math.Ceiling(0.05 * steps), steps);
        var plan = PlanFor(0);
        int epoch = 0, cursor = 0;
        Say($"SFT warm start: {steps} steps of {o.SftBatchSize} chosen responses (causal-LM loss on the response tokens), peak lr {o.SftLearningRate:G3}");
        var trainingStep = new TrainingStep(model.Parameters, optimizer, tape, schedule, o.MaxGradNorm, pool)
        {
            OnDiverged = d => new TrainingDivergedException(
                $"SFT warm-start step {d.Step}: the {d.Quantity} is {d.Value}; lower sft_learning_rate or set sft_steps: 0.", 0, null),
            GradientReducer = dp.Reducer,
        };
        // The loss is a mean over predicted response tokens, so a rank's share of it is its share of those tokens.
        static float PredictedTokens(EncodedSequence s) => Math.Max(0, s.Ids.Length - 1 - Math.Max(0, s.ResponseStart - 1));
        bool stopAgreed = false;   // with several ranks, the previous step's Allreduce says whether any rank was cancelled
        for (long step = 0; step < steps; step++)
        {
            if (dp.Size == 1 ? ct.IsCancellationRequested : stopAgreed) return false;
            var result = trainingStep.Run(step, 1, (tape, _) =>
            {
                if (cursor >= plan.Batches.Count) { plan = PlanFor(++epoch); cursor = 0; }
                var (rows, share) = dp.Shard(plan.Batches[cursor++], i => PredictedTokens(sequences[i]));
                if (rows.Length == 0) return new MicroBatchLoss(tape.Zeros([1], requiresGrad: true), 0);
                var batch = TokenBatch.FromSequences(rows.Select(i => sequences[i].Ids).ToArray(), Math.Max(0, tokenizer.PadId),
                    rows.Select(i => sequences[i].ResponseStart).ToArray());
                var loss = model.LanguageModelLoss(tape, batch, responseOnly: true, training: true, dp.Dropout(dropoutRng, -1 - step, 0));
                return new MicroBatchLoss(share == 1f ? loss : tape.Scale(loss, share), batch.Lengths.Sum());
            });
            double value = result.Loss, lr = result.LearningRate;
            var (_, _, tokens, stop) = dp.CombineStep([], result.Tokens, ct.IsCancellationRequested);
            stopAgreed = stop;
            emit(new Dictionary<string, double>
            {
                ["step"] = 0, ["sft_step"] = step + 1, ["sft_loss"] = value, ["grad_norm"] = result.GradNorm, ["learning_rate"] = lr,
                ["tokens_per_s"] = Math.Round(tokens / Math.Max(result.Elapsed.TotalSeconds, 1e-9), 1), ["world_size"] = dp.Size,
            });
            Report(TrainingStage.WarmStart, step + 1, steps, value, lr);
        }
        return true;
    }

    /// <summary>
    /// The run's optimiser: AdamW at the options' learning rate and weight decay (none on biases and LayerNorm weights),
    /// its update spread over <paramref name="pool"/> (bit-identical for any thread count).
    /// </summary>
    internal static AdamW CreateOptimizer(ParameterSet parameters, RewardTrainingOptions o, WorkerPool? pool = null) =>
        new(parameters, o.LearningRate, weightDecay: o.WeightDecay, pool: pool);

    void Say(string message) => Progress?.Report(new TrainingProgress(TrainingStage.Preparing, 0, 0, double.NaN, 0, message));

    void Report(TrainingStage stage, long step, long total, double loss, double lr, string? message = null) =>
        Progress?.Report(new TrainingProgress(stage, step, total, loss, lr, message));

    ByteLevelBpeTokenizer LoadOrTrainTokenizer(IReadOnlyList<Data.PreferencePair> pairs, PromptTemplate template, CancellationToken ct)
    {
        var o = Options;
        if (o.Tokenizer is not null) { Say($"tokenizer from {o.Tokenizer}"); return ByteLevelBpeTokenizer.FromDirectory(o.Tokenizer); }
        if (o.Init is not null) { Say($"tokenizer from {o.Init}"); return ByteLevelBpeTokenizer.FromDirectory(o.Init); }
        var clock = Stopwatch.StartNew();
        var tokenizer = BpeTrainer.Train(TrainingData.Texts(pairs, template), new BpeTrainerOptions { VocabSize = o.VocabSize, Threads = o.Threads }, ct);
        Say($"trained a BPE tokenizer of {tokenizer.VocabSize} tokens on the training texts in {clock.Elapsed.TotalSeconds:F1} s");
        return tokenizer;
    }

    GptRewardModel CreateModel(ByteLevelBpeTokenizer tokenizer, Models.RewardPooling pooling)
    {
        var o = Options;
        GptRewardModel model;
        if (o.Init is not null)
        {
            var (loaded, report) = RewardModelFolder.InitializeFrom(o.Init, o.Seed, pooling);
            Say($"init from {o.Init}: {report.Loaded.Count} tensors loaded, missing (initialised) [{string.Join(", ", report.Missing)}], {report.Unexpected.Count} unused");
            if (loaded.Config.VocabSize < tokenizer.VocabSize)
                throw new ArgumentException($"training option 'init': {o.Init} has vocab_size {loaded.Config.VocabSize} but the tokenizer has {tokenizer.VocabSize} tokens; use the checkpoint's own tokenizer.");
            if (loaded.Config.Positions < o.MaxLength)
                throw new ArgumentException($"training option 'max_length': {o.MaxLength} exceeds n_positions = {loaded.Config.Positions} of {o.Init}; lower max_length.");
            model = loaded;
            if (o.Dropout == 0 && (model.Config.EmbeddingDropout > 0 || model.Config.ResidualDropout > 0 || model.Config.AttentionDropout > 0))
            {
                var copy = new GptRewardModel(model.Config.WithoutDropout(), pooling);
                model.Parameters.Values.CopyTo(copy.Parameters.Values);
                model = copy;
            }
            return model;
        }
        var config = ConfigFor(tokenizer);
        model = new GptRewardModel(config, pooling);
        model.Initialize(new Rng(o.Seed));
        return model;
    }

    /// <summary>The preset sized for the tokenizer, with n_positions ≥ max_length and the run's dropout (none on attention probabilities).</summary>
    internal GptConfig ConfigFor(ByteLevelBpeTokenizer tokenizer)
    {
        var o = Options;
        int? eos = tokenizer.EndOfTextId >= 0 ? tokenizer.EndOfTextId : null;
        var config = GptConfig.Preset(o.Preset, tokenizer.VocabSize, eos);
        if (o.Preset == "base" && tokenizer.VocabSize != config.VocabSize) config = config with { VocabSize = tokenizer.VocabSize, EosTokenId = eos };
        config = config with
        {
            Positions = Math.Max(config.Positions, o.MaxLength),
            PadTokenId = tokenizer.PadId >= 0 ? tokenizer.PadId : null,
            EmbeddingDropout = o.Dropout, ResidualDropout = o.Dropout, AttentionDropout = 0,
        };
        if (ConfigureModel is not null) config = ConfigureModel(config);
        return config.Validate();
    }

    static (Tensor Chosen, Tensor Rejected, TokenBatch Batch) Forward(Tape tape, GptRewardModel model, IReadOnlyList<EncodedPair> batch,
        ByteLevelBpeTokenizer tokenizer, bool training, Rng? dropoutRng)
    {
        int n = batch.Count;
        var rows = new int[2 * n][];
        var starts = new int[2 * n];
        for (int i = 0; i < n; i++)
        {
            rows[i] = batch[i].Chosen.Ids; starts[i] = batch[i].Chosen.ResponseStart;            // rows [0, B): chosen
            rows[n + i] = batch[i].Rejected.Ids; starts[n + i] = batch[i].Rejected.ResponseStart; // rows [B, 2B): rejected
        }
        var tokens = TokenBatch.FromSequences(rows, Math.Max(0, tokenizer.PadId), starts);
        var rewards = model.Forward(tape, tokens, training, dropoutRng);                           // (2B)
        var halves = tape.Split(rewards, [n, n], 0);                                              // (B), (B)
        return (halves[0], halves[1], tokens);
    }

    Tensor Loss(Tape tape, Tensor chosen, Tensor rejected, IReadOnlyList<EncodedPair> batch, GptRewardModel model, bool withL2)
    {
        var o = Options;
        Tensor Column(Func<EncodedPair, float> field)
        {
            var t = tape.Empty([batch.Count]);
            for (int i = 0; i < batch.Count; i++) t.Data[i] = field(batch[i]);
            return t;
        }
        var loss = o.Loss switch
        {
            RewardLossKind.Contrastive => Contrastive.Loss(tape, chosen, rejected, (float)o.Temperature),
            RewardLossKind.Hinge => Hinge.Loss(tape, chosen, rejected, (float)o.HingeMargin),
            RewardLossKind.Focal => Focal.Loss(tape, chosen, rejected, (float)o.FocalGamma),
            _ => BradleyTerry.Loss(tape, chosen, rejected,
                margin: o.UseMargin ? Column(p => p.Margin) : null,
                labelSmoothing: (float)o.LabelSmoothing,
                weights: o.UseWeights ? Column(p => p.Weight) : null,
                centerRewardsCoefficient: (float)o.CenterRewardsCoefficient),
        };
        if (withL2 && o.L2 > 0)
            loss = tape.Add(loss, Regression.L2Penalty(tape, model.Parameters.Entries.Select(e => e.Tensor), (float)o.L2));
        return loss;
    }

    /// <summary>Loss (without L2), accuracy, margin and mean/min/max reward on <paramref name="pairs"/>, in inference mode.</summary>
    Dictionary<string, double> Evaluate(Tape tape, GptRewardModel model, IReadOnlyList<EncodedPair> pairs, ByteLevelBpeTokenizer tokenizer, DataParallel dp, long step, CancellationToken ct)
    {
        var (chosen, rejected) = dp.ScoreSharded(pairs.Count, (part, c, r) => ScorePairs(tape, model, pairs, part, tokenizer, c, r, ct));
        var c = tape.Empty([pairs.Count]); chosen.CopyTo(c.Data);
        var r = tape.Empty([pairs.Count]); rejected.CopyTo(r.Data);
        double loss = Loss(tape, c, r, pairs, model, withL2: false).ToScalar();
        tape.Reset();
        var m = PreferenceMetrics.Compute(chosen, rejected);
        return new Dictionary<string, double>
        {
            ["step"] = step,
            ["eval_loss"] = loss,
            ["eval_accuracy"] = m.Accuracy,
            ["eval_margin"] = m.Margin,
            ["eval_mean_reward"] = m.MeanReward,
            ["eval_min_reward"] = Math.Min(chosen.Min(), rejected.Min()),
            ["eval_max_reward"] = Math.Max(chosen.Max(), rejected.Max()),
        };
    }

    /// <summary>Pairs whose rewards estimate the training mean/std and histogram stored in the model.</summary>
    public const int StatisticsPairs = 4000;

    /// <summary>
    /// Every training pair when there are at most <see cref="StatisticsPairs"/>, else that many drawn without replacement with
    /// the run's seed: 8,000 rewards put the mean within a standard error of σ/√8000 ≈ 0.011σ, while scoring all 20,000 pairs
    /// of the built-in world took ~25 s of a quickstart on a 2 GHz two-core machine.
    /// </summary>
    internal static IReadOnlyList<EncodedPair> StatisticsSample(IReadOnlyList<EncodedPair> pairs, ulong seed)
    {
        if (pairs.Count <= StatisticsPairs) return pairs;
        var order = Enumerable.Range(0, pairs.Count).ToArray();
        var rng = new Rng(seed ^ 0x9E3779B97F4A7C15UL);
        for (int i = 0; i < StatisticsPairs; i++)   // partial Fisher-Yates: the first StatisticsPairs entries are the sample
        {
            int j = i + rng.NextInt(order.Length - i);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return [.. order.Take(StatisticsPairs).Order().Select(i => pairs[i])];
    }

    /// <summary>Every reward (chosen and rejected) of <paramref name="pairs"/>, each rank scoring its shard.</summary>
    double[] Score(Tape tape, GptRewardModel model, IReadOnlyList<EncodedPair> pairs, ByteLevelBpeTokenizer tokenizer, DataParallel dp, CancellationToken ct)
    {
        var (chosen, rejected) = dp.ScoreSharded(pairs.Count, (part, c, r) => ScorePairs(tape, model, pairs, part, tokenizer, c, r, ct));
        return [.. chosen.Select(x => (double)x), .. rejected.Select(x => (double)x)];
    }

    /// <summary>The rewards of the pairs at positions <paramref name="part"/> of <paramref name="pairs"/>, into the same positions of <paramref name="chosen"/> and <paramref name="rejected"/>.</summary>
    void ScorePairs(Tape tape, GptRewardModel model, IReadOnlyList<EncodedPair> pairs, Range part, ByteLevelBpeTokenizer tokenizer, float[] chosen, float[] rejected, CancellationToken ct)
    {
        var (first, count) = part.GetOffsetAndLength(pairs.Count);
        if (count == 0) return;
        var plan = LengthBuckets.Plan(Enumerable.Range(first, count).Select(i => pairs[i].MaxLength).ToArray(),
            new BatchingOptions { BatchSize = Math.Max(Options.BatchSize, 16), BucketBatches = Math.Max(1, count), Shuffle = false });
        foreach (var indices in plan.Batches)
        {
            ct.ThrowIfCancellationRequested();
            var (c, r, _) = Forward(tape, model, indices.Select(i => pairs[first + i]).ToArray(), tokenizer, training: false, null);
            for (int k = 0; k < indices.Length; k++) { chosen[first + indices[k]] = c.Data[k]; rejected[first + indices[k]] = r.Data[k]; }
            tape.Reset();
        }
    }

    /// <summary>An equal-width histogram of <paramref name="values"/> over [min, max].</summary>
    internal static RewardHistogram Histogram(IReadOnlyList<double> values, int bins)
    {
        double lo = values.Min(), hi = values.Max();
        if (hi <= lo) { lo -= 0.5; hi += 0.5; }
        var edges = Enumerable.Range(0, bins + 1).Select(i => lo + (hi - lo) * i / bins).ToArray();
        var counts = new long[bins];
        foreach (var v in values) counts[Math.Clamp((int)((v - lo) / (hi - lo) * bins), 0, bins - 1)]++;
        return new RewardHistogram(edges, counts);
    }

    /// <summary>A fresh run empties metrics.jsonl; a resumed one keeps the rows up to the checkpoint's step.</summary>
    static void PrepareMetricsFile(string path, long keepUpToStep)
    {
        if (keepUpToStep < 0 || !File.Exists(path)) { File.WriteAllText(path, ""); return; }
        var kept = File.ReadLines(path).Where(line =>
        {
            if (string.IsNullOrWhiteSpace(line)) return false;
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.TryGetProperty("step", out var s) && s.GetDouble() <= keepUpToStep;
        }).ToList();
        File.WriteAllLines(path, kept);
    }
}
