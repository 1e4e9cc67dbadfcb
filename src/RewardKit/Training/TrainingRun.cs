using System.Diagnostics;
using System.Text.Json;
using RewardKit.Evaluation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.Bert;
using RewardKit.Models.MultiObjective;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors.Optim;
using RewardKit.Tensors;
using RewardKit.Text;
using RewardKit.Training.Losses;

namespace RewardKit.Training;

/// <summary>
/// One reward-model training run with its state in fields: data, tokenizer and model; optimiser, schedule and data
/// cursor (<see cref="TrainingState"/>); metrics log; best parameters and early-stopping counters; checkpoints.
/// The model is reached through <see cref="ITrainableRewardModel"/>: a GPT-2 (<see cref="TrainableGpt"/>), or a pretrained
/// BERT backbone fine-tuned as a cross-encoder (<see cref="TrainableBert"/>, <see cref="RewardTrainingOptions.Backbone"/>;
/// no SFT warm start; its checkpoints hold no tokenizer, the backbone's vocabulary is read again on --resume). The constructor prepares everything (or restores it from the checkpoint); <see cref="RewardTrainer"/> then calls
/// <see cref="WarmStart"/>, <see cref="TrainRewardModel"/> and <see cref="SaveModel"/>.
/// As one rank of a data-parallel job (<see cref="RewardTrainer.Communicator"/>) every rank runs the same run; what differs
/// goes through <see cref="DataParallel"/>: shards of every batch, one gradient Allreduce per step, rank 0 alone writing files.
/// </summary>
internal sealed class TrainingRun : IDisposable
{
    /// <summary>Batches per length bucket (see <see cref="Text.LengthBuckets"/>).</summary>
    internal const int BucketBatches = 8;

    readonly RewardTrainer _trainer;
    readonly RewardTrainingOptions _o;
    readonly IReadOnlyList<string> _trainPaths;
    readonly string _outputDirectory, _checkpointDirectory, _modelDirectory;
    readonly CancellationToken _ct;
    readonly DataParallel _dp;
    readonly TrainingCheckpoint.Contents? _resumed;
    readonly EncodedSplit _train;
    readonly EncodedSplit? _eval;
    readonly string? _templateName;
    readonly ByteLevelBpeTokenizer? _tokenizer;   // null with a backbone (WordPiece, inside TrainableBert)
    readonly GptRewardModel? _gpt;                // null with a backbone
    readonly ITrainableRewardModel _model;
    readonly WorkerPool _pool;
    readonly AdamW _optimizer;
    readonly Rng _dropoutRng;
    readonly TrainingState _state;
    readonly int[] _pairLengths;
    readonly long _totalSteps;
    readonly Tape _tape, _evalTape;
    readonly TrainingStep _step;
    readonly MetricsLog? _metrics;   // rank 0's only
    readonly List<double> _losses = [];
    BatchPlan _plan;
    SftWarmStart? _warmStart;
    float[]? _best;
    Dictionary<string, double> _lastTrain = [], _bestEval = [];
    string? _lastCheckpoint;
    long _lastCheckpointStep;
    bool _stoppedEarly;

    /// <summary>Reads and encodes the data, builds the model and optimiser (or restores them from the checkpoint) and opens the metrics log.</summary>
    public TrainingRun(RewardTrainer trainer, IReadOnlyList<string> trainPaths, string? evalPath, string outputDirectory, CancellationToken cancellationToken)
    {
        _trainer = trainer;
        _o = trainer.Options with { WorldSize = trainer.Communicator.Size };
        _trainPaths = trainPaths;
        _outputDirectory = outputDirectory;
        _ct = cancellationToken;
        _dp = new DataParallel(trainer.Communicator, _o.Seed);
        _dp.RequireSplittable(_o);
        if (trainer.Options.WorldSize is not 1 && trainer.Options.WorldSize != _o.WorldSize)
            Say($"world_size {trainer.Options.WorldSize} of the options is recorded from an earlier run; this run has {_o.WorldSize} (mpirun -np N sets it)");
        if (_dp.IsRoot) Directory.CreateDirectory(outputDirectory);
        _checkpointDirectory = Path.Combine(outputDirectory, "checkpoint");
        _modelDirectory = Path.Combine(outputDirectory, "model");
        _resumed = OpenCheckpoint();
        _pool = new WorkerPool(_o.Threads);
        int scoringBatch = 2 * Math.Max(_o.BatchSize, 16);
        if (_o.Backbone is null)
        {
            (_train, _eval, _templateName, _tokenizer) = ReadData(evalPath);
            if (_o.Architecture == RewardArchitecture.Separate) _model = CreateSeparate(_tokenizer, scoringBatch);
            else _gpt = CreateModel(_tokenizer);
            if (_gpt is not null) Say($"model {_gpt.Config} ({_gpt.ParameterCount:N0} parameters), {_o.Loss} loss");
            _model ??= _o.LoraSettings is { } lora ? Adapt(_gpt!, lora, scoringBatch)
                : _o.RewardObjectives is { } objectives ? new TrainableMultiObjective(_gpt!, objectives, _tokenizer, _templateName, _o.MaxLength, _pool, scoringBatch)
                : new TrainableGpt(_gpt!, _tokenizer, _templateName, _o.MaxLength, _pool, scoringBatch);
        }
        else (_train, _eval, _model) = PrepareBackbone(_o.Backbone, evalPath, scoringBatch);
        if (trainer.BootstrapSeed is { } bootstrap) _train = EnsembleTraining.Resample(_train, bootstrap);   // an ensemble member
        _optimizer = RewardTrainer.CreateOptimizer(_model.Parameters, _o, _pool);
        _dropoutRng = new Rng(_o.Seed ^ 0x5DEECE66DUL);
        _state = Restore();
        _dp.ShareParameters(_model.Parameters);   // every rank starts from rank 0's weights
        if (_dp.Size > 1)
            Say($"data-parallel over {_dp.Size} ranks: each takes its share of every batch of {_o.BatchSize} pairs; one Allreduce of {_model.Parameters.Count:N0} gradients per step");
        _pairLengths = [.. _train.Pairs.Select(p => p.MaxLength)];
        _plan = PlanFor(_state.Epoch);
        _totalSteps = _o.MaxSteps > 0 ? _o.MaxSteps : (long)Math.Ceiling(_o.Epochs * (double)_plan.Batches.Count / _o.GradientAccumulationSteps);
        long warmup = (long)Math.Ceiling(_o.WarmupRatio * _totalSteps);
        Say($"{_train.Pairs.Count} pairs, {_plan.Batches.Count} batches of {_o.BatchSize} pairs per epoch ({_plan.PaddingFraction:P1} padding), "
            + $"{_totalSteps} steps, warm-up {warmup}, {OptionNames.Name(_o.Schedule)} decay, peak lr {_o.PeakLearningRate:G3}");
        _tape = new Tape(_pool) { GarbageBudgetBytes = Tape.TrainingGarbageBudgetBytes };   // resident memory flat over steps
        _evalTape = new Tape(_pool) { RecordsGradients = false };
        _step = new TrainingStep(_model.Parameters, _optimizer, _tape, Schedule(warmup), _o.MaxGradNorm, _pool) { OnDiverged = Diverged, GradientReducer = _dp.Reducer };
        if (_dp.IsRoot) _metrics = MetricsLog.Open(Path.Combine(outputDirectory, RewardTrainer.MetricsFileName), _resumed is null ? null : KeepRow, trainer.Metrics);
    }

    /// <summary>
    /// The SFT warm start, or the rest of it when the checkpoint was taken during it; nothing when the checkpoint was taken
    /// after it. Checkpoints every <see cref="RewardTrainingOptions.CheckpointEvery"/> SFT steps (or every
    /// <see cref="RewardTrainingOptions.EvalEvery"/> when that is 0) and at its end. False when cancelled (after a checkpoint).
    /// </summary>
    public bool WarmStart()
    {
        long steps = _o.SftStepsFor(_totalSteps);
        if (steps == 0) _state.WarmStart = null;
        if (steps == 0 || (_resumed is not null && _resumed.State.WarmStart is null)) return true;
        var position = _resumed?.State.WarmStart ?? new WarmStartState();
        _warmStart = _model is TrainableSeparate separate
            ? SftWarmStart.ForRewardModel(_o, separate.Parameters, separate.Model.Transformer, _train.Pairs, Math.Max(0, _tokenizer!.PadId), _tape, _pool, _dropoutRng, steps, position, _dp)
            : SftWarmStart.ForRewardModel(_o, _gpt!, _train.Pairs, Math.Max(0, _tokenizer!.PadId), _tape, _pool, _dropoutRng, steps, position, _dp);
        if (_resumed is not null) _warmStart.Optimizer.LoadState(_resumed.Optimizer);
        _state.WarmStart = position;
        Say($"SFT warm start: {steps} steps of {_o.SftBatchSize} chosen responses (causal-LM loss on the response tokens), peak lr {_o.SftLearningRate:G3}"
            + (position.Step > 0 ? $"; continuing after step {position.Step}" : ""));
        long every = _o.CheckpointEvery > 0 ? _o.CheckpointEvery : _o.EvalEvery;
        while (!_warmStart.Done)
        {
            if (_dp.AgreeToStop(_ct.IsCancellationRequested))
            {
                Checkpoint();
                return false;
            }
            var result = _warmStart.Next();
            _metrics?.Write(_warmStart.WarmStartRow(result));
            Report(TrainingStage.WarmStart, position.Step, steps, result.Loss, result.LearningRate);
            if (every > 0 && position.Step % every == 0 && !_warmStart.Done) Checkpoint();
        }
        _state.WarmStart = null;
        _warmStart = null;
        Checkpoint();   // step 0, after the warm start: --resume from here does not repeat it
        return true;
    }

    /// <summary>Reward steps to the last one or early stopping, evaluating and checkpointing on cadence. False when cancelled (after a checkpoint).</summary>
    public bool TrainRewardModel()
    {
        while (_state.Step < _totalSteps)
        {
            if (_dp.AgreeToStop(_ct.IsCancellationRequested))
            {
                Checkpoint();
                return false;
            }
            TakeStep();
            bool last = _state.Step == _totalSteps;
            if (_eval is not null && ((_o.EvalEvery > 0 && _state.Step % _o.EvalEvery == 0) || last))
            {
                if (EvaluateForBest(_eval)) break;
                if (!last) Checkpoint();
            }
            else if (_o.CheckpointEvery > 0 && _state.Step % _o.CheckpointEvery == 0 && !last) Checkpoint();
        }
        Checkpoint();
        return true;
    }

    /// <summary>One reward step: <see cref="RewardTrainingOptions.GradientAccumulationSteps"/> micro-batches from the data cursor, then its metrics row.</summary>
    void TakeStep()
    {
        var rewards = new List<DataParallel.MicroRewards>(_o.GradientAccumulationSteps);
        var result = _step.Run(_state.Step, _o.GradientAccumulationSteps, (tape, micro) =>
        {
            if (_state.BatchCursor >= _plan.Batches.Count)
            {
                _state.Epoch++;
                _state.BatchCursor = 0;
                _plan = PlanFor(_state.Epoch);
            }
            var global = _plan.Batches[_state.BatchCursor++].Select(i => _train.Pairs[i]).ToArray();
            var (batch, part, share) = _dp.Shard(global, _o.UseWeights ? p => p.Weight : null);   // this rank's pairs, their share of the loss
            if (batch.Length == 0)
            {
                rewards.Add(new(global.Length, part, [], []));
                return DataParallel.NoRows(tape);
            }
            var (chosen, rejected, tokens) = _model.Forward(tape, batch, _dp.Dropout(_dropoutRng, _state.Step, micro));
            var loss = _model is TrainableMultiObjective objectives ? objectives.Loss(tape, batch) : Loss(tape, chosen, rejected, batch, withL2: true);
            rewards.Add(new(global.Length, part, chosen.ToArray(), rejected.ToArray()));
            return DataParallel.ScaledLoss(tape, loss, share, tokens);
        });
        _state.Step++;
        _losses.Add(result.Loss);
        var (chosenRewards, rejectedRewards) = _dp.GatherRewards(rewards);
        var m = PreferenceMetrics.Compute(chosenRewards, rejectedRewards);
        _lastTrain = new Dictionary<string, double>
        {
            ["step"] = _state.Step,
            ["epoch"] = Math.Round(_state.Epoch + (double)_state.BatchCursor / _plan.Batches.Count, 4),
            ["loss"] = result.Loss,
            ["accuracy"] = m.Accuracy,
            ["margin"] = m.Margin,
            ["mean_reward"] = m.MeanReward,
            ["grad_norm"] = result.GradNorm,
            ["learning_rate"] = result.LearningRate,
            ["tokens_per_s"] = Math.Round(result.TokensPerSecond, 1),
            ["world_size"] = _dp.Size,
        };
        if (_dp.Size > 1) _lastTrain["allreduce_ms"] = Math.Round(result.Times.Reduce.TotalMilliseconds, 3);
        _metrics?.Write(_lastTrain);
        Report(TrainingStage.Training, _state.Step, _totalSteps, result.Loss, result.LearningRate);
        if (_gpt is not null) _trainer.AfterStep?.Invoke(_state.Step, _gpt);
    }

    /// <summary>Evaluates, keeps the parameters when the best metric improved, and returns true when patience ran out.</summary>
    bool EvaluateForBest(EncodedSplit eval)
    {
        // Not cancellable: a Ctrl+C during evaluation lets it finish, then the next step boundary saves the checkpoint.
        var row = Evaluate(eval.Pairs, CancellationToken.None);
        _metrics?.Write(row);
        double score = _o.BestMetric switch
        {
            BestModelMetric.Loss => -row["eval_loss"],
            BestModelMetric.Accuracy => row["eval_accuracy"],
            _ => throw new ArgumentOutOfRangeException(nameof(_o.BestMetric), _o.BestMetric, "not a metric."),
        };
        string metric = OptionNames.Name(_o.BestMetric);
        bool improved = _state.BestMetric is null || score > _state.BestMetric.Value;
        if (improved)
        {
            _state.BestMetric = score;
            _state.BestStep = _state.Step;
            _state.EvaluationsWithoutImprovement = 0;
            _best = _model.Parameters.Values.ToArray();
            _bestEval = row;
        }
        else _state.EvaluationsWithoutImprovement++;
        double loss = _losses.LastOrDefault(double.NaN), lr = _optimizer.LearningRate;
        Report(TrainingStage.Evaluating, _state.Step, _totalSteps, loss, lr,
            $"step {_state.Step}: eval_loss {row["eval_loss"]:F4}, eval_accuracy {row["eval_accuracy"]:F4}, eval_margin {row["eval_margin"]:F3}"
            + (improved ? " (best)" : $" (best {metric} at step {_state.BestStep})"));
        if (_o.Patience == 0 || _state.EvaluationsWithoutImprovement < _o.Patience) return false;
        _stoppedEarly = true;
        Report(TrainingStage.Evaluating, _state.Step, _totalSteps, loss, lr,
            $"early stopping: no better {metric} in {_o.Patience} evaluations; keeping step {_state.BestStep}");
        return true;
    }

    /// <summary>Writes the kept (best) model with its reward statistics and the run's record to <c>OUT/model</c>.</summary>
    public TrainingResult SaveModel()
    {
        if (_best is not null) _best.CopyTo(_model.Parameters.Values);
        if (_model is TrainableMultiObjective objectives && _o.FitsObjectiveWeights)
        {
            var fitted = objectives.FitWeights((_eval ?? _train).Pairs, _ct);
            Say($"objective weights fitted on the {(_eval is null ? "training" : "validation")} pairs' overall preferences: "
                + string.Join(", ", objectives.Objectives.Names.Zip(fitted, (n, w) => $"{n} {w:G4}")));
        }
        Report(TrainingStage.Saving, _state.Step, _totalSteps, _losses.LastOrDefault(double.NaN), _optimizer.LearningRate,
            $"scoring {Math.Min(_train.Pairs.Count, _model.StatisticsPairs)} training pairs for the reward statistics");
        var (chosen, rejected) = _dp.ScoreSharded(RewardTrainer.StatisticsSample(_train.Pairs, _o.Seed, _model.StatisticsPairs), pairs => _model.Score(pairs, _ct));
        double[] trainRewards = [.. chosen.Select(x => (double)x), .. rejected.Select(x => (double)x)];
        double mean = trainRewards.Average();
        double std = Math.Sqrt(trainRewards.Sum(r => (r - mean) * (r - mean)) / trainRewards.Length);
        long keptStep = _best is null ? _state.Step : _state.BestStep;
        var metadata = new RewardModelMetadata
        {
            Name = Path.GetFileName(Path.GetFullPath(_outputDirectory).TrimEnd(Path.DirectorySeparatorChar)),
            MaxLength = _o.MaxLength,
            RewardMean = mean,
            RewardStd = std > 0 ? std : 1,
            RewardHistogram = RewardTrainer.Histogram(trainRewards, RewardTrainer.HistogramBins),
            Extra = new Dictionary<string, JsonElement>
            {
                ["backbone"] = JsonSerializer.SerializeToElement(_o.Backbone),
                ["training_options"] = JsonSerializer.SerializeToElement(_o.ToYaml()),
                ["train_data_sha256"] = JsonSerializer.SerializeToElement(_train.Sha256),
                ["train_data_files"] = JsonSerializer.SerializeToElement(_trainPaths.Select(Path.GetFileName).ToArray()),
                ["eval_data_sha256"] = JsonSerializer.SerializeToElement(_eval?.Sha256),
                ["steps"] = JsonSerializer.SerializeToElement(_state.Step),
                ["sft_steps"] = JsonSerializer.SerializeToElement(_o.SftStepsFor(_totalSteps)),
                ["best_step"] = JsonSerializer.SerializeToElement(keptStep),
                ["final_train_metrics"] = JsonSerializer.SerializeToElement(_lastTrain),
                ["final_eval_metrics"] = JsonSerializer.SerializeToElement(_bestEval),
            },
        };
        if (_templateName is not null) metadata.Template = _templateName;   // a cross-encoder has no prompt template
        if (_dp.IsRoot) _model.Save(_modelDirectory, metadata);
        Report(TrainingStage.Saving, _state.Step, _totalSteps, _losses.LastOrDefault(double.NaN), _optimizer.LearningRate,
            $"model saved to {_modelDirectory} (step {keptStep}; training rewards mean {mean:F3}, std {std:F3})");
        return Result(_modelDirectory, cancelled: false);
    }

    /// <summary>What the run produced so far.</summary>
    public TrainingResult Result(string? modelDirectory, bool cancelled) => new()
    {
        ModelDirectory = modelDirectory, CheckpointDirectory = _checkpointDirectory, Steps = _state.Step, Cancelled = cancelled,
        StoppedEarly = _stoppedEarly, Checks = _eval is null ? _train.Checks : [.. _train.Checks, .. _eval.Checks],
        FinalTrainMetrics = _lastTrain, BestEvalMetrics = _bestEval, BestStep = _best is null ? _state.Step : _state.BestStep, Losses = _losses,
    };

    /// <inheritdoc/>
    public void Dispose()
    {
        _metrics?.Dispose();
        _model.Dispose();
        _pool.Dispose();
    }

    // ---- preparation ----------------------------------------------------------------------------------------------

    /// <summary>Reads the training files, in order.</summary>
    List<ReadFile> ReadTrainFiles()
    {
        var trainFiles = new List<ReadFile>();
        foreach (var path in _trainPaths)
        {
            Say($"reading {path}");
            var (pairs, report) = TrainingData.Read(path, _o, _ct);
            trainFiles.Add(new ReadFile(path, pairs, report));
        }
        _dp.RequireSameData(TrainingData.Combine([.. trainFiles.Select(f => f.Report.Sha256 ?? "")]));
        return trainFiles;
    }

    /// <summary>Reads the evaluation file, if any.</summary>
    ReadFile? ReadEvalFile(string? evalPath)
    {
        if (evalPath is null) return null;
        var (pairs, report) = TrainingData.Read(evalPath, _o, _ct);
        return new ReadFile(evalPath, pairs, report);
    }

    void SayChecks(EncodedSplit train, EncodedSplit? eval)
    {
        foreach (var split in eval is null ? new[] { train } : [train, eval])
            foreach (var checks in split.Checks)
                foreach (var line in checks.Lines()) Say(line);
    }

    /// <summary>
    /// The pretrained encoder (converted into the cache on first use) with its WordPiece tokenizer, and the data encoded as
    /// [CLS] prompt [SEP] response [SEP] with the same start-up checks as the GPT-2 path.
    /// </summary>
    (EncodedSplit Train, EncodedSplit? Eval, ITrainableRewardModel Model) PrepareBackbone(string backbone, string? evalPath, int scoringBatch)
    {
        var directory = _dp.RootFirst(() => PackagedBackbones.Resolve(backbone, _o.BackboneCache, new Progress(Say)));   // rank 0 fills the cache
        var tokenizer = WordPieceTokenizer.FromFile(directory);
        float dropout = _o.DropoutRate;
        var (model, report) = BertModelFolder.InitializeFrom(directory, _o.Seed, _o.BackbonePooling,
            c => c with { HiddenDropout = dropout, AttentionDropout = 0 });
        Say($"backbone {backbone} ({directory}): {report.Loaded.Count} tensors loaded, initialised [{string.Join(", ", report.Missing)}], {report.Unexpected.Count} unused");
        if (_o.MaxLength > model.Config.MaxPositions)
            throw new ArgumentException($"training option 'max_length': {_o.MaxLength} exceeds max_position_embeddings = {model.Config.MaxPositions} of the backbone; lower max_length.");
        var encoder = new CrossEncoderSequenceEncoder(tokenizer, new SequenceOptions { MaxLength = _o.MaxLength, OnOverflow = _o.OverflowPolicy });
        var train = TrainingData.Encode("train", ReadTrainFiles(), encoder, _ct);
        RequireCheckpointData(train);
        var eval = ReadEvalFile(evalPath) is { } evalFile ? TrainingData.Encode("eval", [evalFile], encoder, _ct) : null;
        SayChecks(train, eval);
        Say($"model {model.Config}, {OptionNames.Name(_o.BackbonePooling)} pooling ({model.ParameterCount:N0} parameters, all trained), dropout {dropout}");
        return (train, eval, new TrainableBert(model, tokenizer, _o.MaxLength, _pool, scoringBatch));
    }

    (EncodedSplit Train, EncodedSplit? Eval, string TemplateName, ByteLevelBpeTokenizer Tokenizer) ReadData(string? evalPath)
    {
        var trainFiles = ReadTrainFiles();
        var trainPairs = trainFiles.SelectMany(f => f.Pairs).ToList();
        var templateName = TrainingData.ChooseTemplate(_o, trainPairs);
        var template = PromptTemplate.FromName(templateName);
        var tokenizer = LoadOrTrainTokenizer(trainPairs, template);
        if (_resumed is null) _dp.RequireSameTokenizer(tokenizer);
        var encoder = new SequenceEncoder(tokenizer, new SequenceOptions { MaxLength = _o.MaxLength, OnOverflow = _o.OverflowPolicy }, template);
        var train = TrainingData.Encode("train", trainFiles, encoder, _ct);
        var eval = ReadEvalFile(evalPath) is { } evalFile ? TrainingData.Encode("eval", [evalFile], encoder, _ct) : null;
        RequireCheckpointData(train);
        Say($"template {templateName}; tokenizer {tokenizer.VocabSize} tokens, pad id {tokenizer.PadId}, end-of-text id {tokenizer.EndOfTextId}"
            + (tokenizer.PadId >= 0 && tokenizer.PadId == tokenizer.EndOfTextId ? " (pad == EOS: harmless here, the reward is read at each row's length, not by searching for pad)" : " (pad != EOS)"));
        SayChecks(train, eval);
        return (train, eval, templateName, tokenizer);
    }

    /// <summary>On resume, the training data must be what the checkpoint was trained on (same files, same order).</summary>
    void RequireCheckpointData(EncodedSplit train)
    {
        if (_resumed is null || _resumed.State.TrainDataSha256 == train.Sha256) return;
        string saved = _resumed.State.TrainDataSha256;
        throw new InvalidDataException($"{string.Join(", ", _trainPaths)}: the training data changed since the checkpoint in {_checkpointDirectory} "
            + $"(sha256 {train.Sha256[..12]}… vs {saved[..Math.Min(12, saved.Length)]}…); resume with the same files in the same order, or train without --resume.");
    }

    ByteLevelBpeTokenizer LoadOrTrainTokenizer(IReadOnlyList<Data.PreferencePair> pairs, PromptTemplate template)
    {
        if (_resumed is not null) return _dp.ShareTokenizer(Path.Combine(_checkpointDirectory, TrainingCheckpoint.TokenizerFolder));   // rank 0's checkpoint
        if (_o.Tokenizer is not null) { Say($"tokenizer from {_o.Tokenizer}"); return ByteLevelBpeTokenizer.FromDirectory(_o.Tokenizer); }
        if (_o.Init is not null) { Say($"tokenizer from {_o.Init}"); return ByteLevelBpeTokenizer.FromDirectory(_o.Init); }
        var clock = Stopwatch.StartNew();
        var tokenizer = BpeTrainer.Train(TrainingData.Texts(pairs, template), new BpeTrainerOptions { VocabSize = _o.VocabSize, Threads = _o.Threads }, _ct);
        Say($"trained a BPE tokenizer of {tokenizer.VocabSize} tokens on the training texts in {clock.Elapsed.TotalSeconds:F1} s");
        return tokenizer;
    }

    GptRewardModel CreateModel(ByteLevelBpeTokenizer tokenizer)
    {
        var pooling = _o.Pooling switch
        {
            RewardPooling.LastToken => Models.RewardPooling.LastToken,
            RewardPooling.MeanResponse => Models.RewardPooling.MeanResponse,
            _ => throw new ArgumentOutOfRangeException(nameof(_o.Pooling), _o.Pooling, "not a pooling."),
        };
        if (_o.Init is null)
        {
            var model = new GptRewardModel(_trainer.ConfigFor(tokenizer), pooling, _o.RewardObjectives?.Count ?? 1);
            model.Initialize(new Rng(_o.Seed));
            return model;
        }
        var (loaded, report) = RewardModelFolder.InitializeFrom(_o.Init, _o.Seed, pooling);
        Say($"init from {_o.Init}: {report.Loaded.Count} tensors loaded, missing (initialised) [{string.Join(", ", report.Missing)}], {report.Unexpected.Count} unused");
        if (loaded.Config.VocabSize < tokenizer.VocabSize)
            throw new ArgumentException($"training option 'init': {_o.Init} has vocab_size {loaded.Config.VocabSize} but the tokenizer has {tokenizer.VocabSize} tokens; use the checkpoint's own tokenizer.");
        if (loaded.Config.Positions < _o.MaxLength)
            throw new ArgumentException($"training option 'max_length': {_o.MaxLength} exceeds n_positions = {loaded.Config.Positions} of {_o.Init}; lower max_length.");
        if (_o.DropoutRate != 0 || (loaded.Config.EmbeddingDropout == 0 && loaded.Config.ResidualDropout == 0 && loaded.Config.AttentionDropout == 0))
            return loaded;
        var copy = new GptRewardModel(loaded.Config.WithoutDropout(), pooling);
        loaded.Parameters.Values.CopyTo(copy.Parameters.Values);
        return copy;
    }

    /// <summary>A separate-encoder model (<see cref="RewardTrainingOptions.Architecture"/> separate) from the seed, from scratch.</summary>
    TrainableSeparate CreateSeparate(ByteLevelBpeTokenizer tokenizer, int scoringBatch)
    {
        var model = Models.Separate.SeparateEncoderRewardModel.Create(_trainer.ConfigFor(tokenizer), _o.Seed);
        Say($"model {model.Config}, separate encoders (shared weights) + fusion head ({model.ParameterCount:N0} parameters), {_o.Loss} loss");
        return new TrainableSeparate(model, tokenizer, _pool, scoringBatch);
    }

    /// <summary>LoRA adapters over the frozen init model (<see cref="RewardTrainingOptions.LoraR"/>), initialised from the seed.</summary>
    TrainableLora Adapt(GptRewardModel baseModel, Models.Lora.LoraSettings settings, int scoringBatch)
    {
        var lora = new Models.Lora.LoraRewardModel(baseModel, settings);
        lora.Initialize(new Rng(_o.Seed ^ 0x10AAUL));
        Say($"LoRA r {settings.Rank}, alpha {settings.Alpha}, dropout {settings.Dropout} on [{string.Join(", ", settings.Targets)}] of {lora.Layers.Count} layers: "
            + $"{lora.TrainableParameterCount:N0} trained parameters ({(double)lora.TrainableParameterCount / baseModel.ParameterCount:P2} of the base), base frozen");
        return new TrainableLora(lora, _o.Init!, _tokenizer!, _templateName!, _o.MaxLength, _pool, scoringBatch);
    }

    /// <summary>Repairs what a killed run left in the output folder, then loads the checkpoint when resuming (null: start fresh).</summary>
    /// <remarks>With several ranks, rank 0 alone does this (the output folder need not be shared) and broadcasts the checkpoint.</remarks>
    TrainingCheckpoint.Contents? OpenCheckpoint()
    {
        if (_dp.IsRoot)
            foreach (var line in TrainingCheckpoint.Tidy(_outputDirectory, _checkpointDirectory)) Say(line);
        if (!_o.Resume) return null;
        var contents = _dp.ShareCheckpoint(_dp.IsRoot ? TrainingCheckpoint.LoadIfPresent(_checkpointDirectory) : null);
        if (contents is null) Say($"resume: no checkpoint in {_checkpointDirectory} yet, so the run starts from the beginning");
        return contents;
    }

    /// <summary>
    /// Whether a resumed run keeps a row of the metrics log: those written up to its checkpoint (during the warm start, the
    /// SFT rows up to its step). The last training row and the evaluation row of the kept model are restored from them,
    /// as are the losses.
    /// </summary>
    bool KeepRow(IReadOnlyDictionary<string, double> row)
    {
        if (!row.TryGetValue("step", out var step)) return false;
        bool keep = _state.WarmStart is { } sft
            ? step == 0 && row.TryGetValue("sft_step", out var sftStep) && sftStep <= sft.Step
            : step <= _state.Step;
        if (!keep) return false;
        if (row.ContainsKey("loss"))
        {
            _lastTrain = new Dictionary<string, double>(row);
            _losses.Add(row["loss"]);
        }
        if (row.ContainsKey("eval_loss") && _state.BestMetric is not null && step == _state.BestStep) _bestEval = new Dictionary<string, double>(row);
        return true;
    }

    /// <summary>A fresh state, or the checkpoint's: parameters, optimiser moments, dropout RNG, best parameters.</summary>
    TrainingState Restore()
    {
        if (_resumed is null) return new TrainingState { TrainDataSha256 = _train.Sha256, OptionsYaml = _o.ToYaml() };
        var parameters = _model.Parameters;
        if (_resumed.Parameters.Length != parameters.Count)
            throw new InvalidDataException($"{_checkpointDirectory}: the checkpoint has {_resumed.Parameters.Length} parameters but this model has {parameters.Count}; resume with the options of the original run.");
        _resumed.Parameters.CopyTo(parameters.Values);
        if (_resumed.State.WarmStart is null) _optimizer.LoadState(_resumed.Optimizer);   // else it is the warm start's (see WarmStart)
        _dropoutRng.SetState(_resumed.State.DropoutRng);
        _best = _resumed.Best;
        _lastCheckpoint = _checkpointDirectory;
        _lastCheckpointStep = _resumed.State.Step;
        Say($"resumed from {_checkpointDirectory} at step {_resumed.State.Step}"
            + (_resumed.State.WarmStart is { } sft ? $" (SFT warm-start step {sft.Step})" : ""));
        return _resumed.State;
    }

    BatchPlan PlanFor(int epoch) => Text.LengthBuckets.Plan(_pairLengths, new BatchingOptions
    {
        BatchSize = _o.BatchSize, BucketBatches = BucketBatches, Shuffle = true, Seed = unchecked((int)(_o.Seed * 1_000_003UL) + epoch),
    });

    LearningRateSchedule Schedule(long warmup) => _o.Schedule switch
    {
        LearningRateDecay.Cosine => LearningRateSchedule.CosineWithWarmup(_o.PeakLearningRate, warmup, _totalSteps),
        LearningRateDecay.Linear => LearningRateSchedule.LinearWithWarmup(_o.PeakLearningRate, warmup, _totalSteps),
        LearningRateDecay.Constant => LearningRateSchedule.Constant(_o.PeakLearningRate),
        _ => throw new ArgumentOutOfRangeException(nameof(_o.Schedule), _o.Schedule, "not a learning-rate decay."),
    };

    // ---- checkpoints ---------------------------------------------------------------------------------------------

    /// <summary>Saves the run (during the warm start, with the warm start's position and optimiser) atomically to <c>OUT/checkpoint</c>.</summary>
    void Checkpoint()
    {
        string what = _state.WarmStart is { } sft ? $"SFT warm-start step {sft.Step}" : $"step {_state.Step}";
        Report(TrainingStage.Saving, _state.Step, _totalSteps, _losses.LastOrDefault(double.NaN), _optimizer.LearningRate, $"checkpoint at {what}");
        _state.DropoutRng = _dropoutRng.GetState();
        var optimizer = (_warmStart?.Optimizer ?? _optimizer).SaveState();
        _dp.RequireSameParameters(_model.Parameters, _state.Step);
        var contents = new TrainingCheckpoint.Contents(_state, _model.Parameters.Values.ToArray(), optimizer, _best);
        if (_dp.IsRoot) TrainingCheckpoint.Save(_checkpointDirectory, contents, _tokenizer, _trainer.BeforeCheckpointRename);   // no tokenizer with a backbone
        _lastCheckpoint = _checkpointDirectory;
        _lastCheckpointStep = _state.Step;
    }

    TrainingDivergedException Diverged(Divergence d) => new(
        $"step {d.Step}: the {d.Quantity} is {d.Value}; training stopped before applying the update. "
        + (_lastCheckpoint is null ? "No checkpoint was written yet. " : $"The last good checkpoint is {_lastCheckpoint} (step {_lastCheckpointStep}); continue from it with --resume. ")
        + "Lower learning_rate, keep max_grad_norm on, or check the data.",
        d.Step, _lastCheckpoint);

    // ---- forward, loss and scoring ----------------------------------------------------------------------------------

    Tensor Loss(Tape tape, Tensor chosen, Tensor rejected, IReadOnlyList<EncodedPair> batch, bool withL2)
    {
        Tensor Column(Func<EncodedPair, float> field)
        {
            var t = tape.Empty([batch.Count]);
            for (int i = 0; i < batch.Count; i++) t.Data[i] = field(batch[i]);
            return t;
        }
        var loss = _o.Loss switch
        {
            RewardLossKind.Contrastive => Contrastive.Loss(tape, chosen, rejected, (float)_o.Temperature),
            RewardLossKind.Hinge => Hinge.Loss(tape, chosen, rejected, (float)_o.HingeMargin),
            RewardLossKind.Focal => Focal.Loss(tape, chosen, rejected, (float)_o.FocalGamma),
            _ => BradleyTerry.Loss(tape, chosen, rejected,
                margin: _o.UseMargin ? Column(p => p.Margin) : null,
                labelSmoothing: (float)_o.LabelSmoothing,
                weights: _o.UseWeights ? Column(p => p.Weight) : null,
                centerRewardsCoefficient: (float)_o.CenterRewardsCoefficient),
        };
        if (withL2 && _o.L2 > 0)
            loss = tape.Add(loss, Regression.L2Penalty(tape, _model.Parameters.Entries.Select(e => e.Tensor), (float)_o.L2));
        return loss;
    }

    /// <summary>Loss (without L2), accuracy, margin and mean/min/max reward on <paramref name="pairs"/>, in inference mode.</summary>
    Dictionary<string, double> Evaluate(IReadOnlyList<EncodedPair> pairs, CancellationToken ct)
    {
        var (chosen, rejected) = _dp.ScoreSharded(pairs, shard => _model.Score(shard, ct));
        var c = _evalTape.Empty([pairs.Count]); chosen.CopyTo(c.Data);
        var r = _evalTape.Empty([pairs.Count]); rejected.CopyTo(r.Data);
        double loss = Loss(_evalTape, c, r, pairs, withL2: false).ToScalar();
        _evalTape.Reset();
        var m = PreferenceMetrics.Compute(chosen, rejected);
        return new Dictionary<string, double>
        {
            ["step"] = _state.Step,
            ["eval_loss"] = loss,
            ["eval_accuracy"] = m.Accuracy,
            ["eval_margin"] = m.Margin,
            ["eval_mean_reward"] = m.MeanReward,
            ["eval_min_reward"] = Math.Min(chosen.Min(), rejected.Min()),
            ["eval_max_reward"] = Math.Max(chosen.Max(), rejected.Max()),
        };
    }

    // ---- progress ------------------------------------------------------------------------------------------------

    /// <summary>Start-up messages of a helper (the backbone conversion) as <see cref="Say"/> lines, in order, on the calling thread.</summary>
    sealed class Progress(Action<string> say) : IProgress<string>
    {
        public void Report(string value) => say(value);
    }

    void Say(string message) => _trainer.Progress?.Report(new TrainingProgress(TrainingStage.Preparing, 0, 0, double.NaN, 0, message));

    void Report(TrainingStage stage, long step, long total, double loss, double lr, string? message = null) =>
        _trainer.Progress?.Report(new TrainingProgress(stage, step, total, loss, lr, message));
}
