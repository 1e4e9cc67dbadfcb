using System.Diagnostics;
using System.Text.Json;
using RewardKit.Data;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Models.Bert;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Text;
using RewardKit.Training.Losses;
using RewardKit.Tensors.Optim;
using LengthBuckets = RewardKit.Text.LengthBuckets;

namespace RewardKit.Training;

/// <summary>Which pretrained encoder a BERT reward model starts from, and how it reads the reward.</summary>
public sealed record BertBackboneOptions
{
    /// <summary>A packaged backbone name (<c>minilm</c>, <c>arctic-xs</c>) or a Hugging Face BERT folder (config.json, model.safetensors, vocab.txt).</summary>
    public required string Backbone { get; init; }

    /// <summary>Where the reward is read: the [CLS] pooler (Hugging Face BertForSequenceClassification, default) or the mean of the tokens.</summary>
    public BertPooling Pooling { get; init; } = BertPooling.Cls;

    /// <summary>The cache of converted packaged backbones; default <see cref="PackagedBackbones.DefaultCacheDirectory"/>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Hidden dropout during fine-tuning (embeddings, sub-layer outputs, pooled vector). Default 0.1, BERT's.</summary>
    public float Dropout { get; init; } = 0.1f;

    /// <summary>The folder of the backbone: a packaged one converted into the cache once, or the folder given.</summary>
    public string Resolve(IProgress<string>? progress = null)
    {
        if (PackagedBackbones.Find(Backbone) is { } packaged) return PackagedBackbones.Ensure(packaged, CacheDirectory, progress);
        if (Directory.Exists(Backbone) && File.Exists(Path.Combine(Backbone, BertConfig.FileName)) && File.Exists(Path.Combine(Backbone, WordPieceTokenizer.VocabFileName)))
            return Backbone;
        throw new ArgumentException($"backbone '{Backbone}': not one of {string.Join(", ", PackagedBackbones.All.Select(b => b.Name))} and not a folder with config.json, "
            + "model.safetensors and vocab.txt; pass a packaged name or a Hugging Face BERT folder (`rewardkit backbone export` writes one).");
    }
}

/// <summary>
/// Fine-tunes a pretrained BERT-family encoder into a cross-encoder reward model (<see cref="BertRewardModel"/>) on preference
/// pairs, with the same data reading, start-up checks, length-bucketed seeded batches, Bradley-Terry loss, AdamW + warm-up +
/// cosine/linear decay, clipping, evaluation and best-model selection, metrics.jsonl and reward statistics as
/// <see cref="RewardTrainer"/> (whose helpers it uses). Every parameter is trained (full fine-tuning); no SFT warm start and
/// no --resume (runs are minutes long; a cancelled run keeps nothing).
/// </summary>
public sealed class BertRewardTrainer
{
    const int BucketBatches = 8;

    /// <summary>At most this many training pairs (every k-th of the seeded sample) estimate the stored reward mean/std: σ/√2000 ≈ 0.02σ.</summary>
    public const int StatisticsPairs = 1000;

    /// <summary>A trainer for <paramref name="options"/> (validated here) starting from <paramref name="backbone"/>.</summary>
    public BertRewardTrainer(RewardTrainingOptions options, BertBackboneOptions backbone)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backbone);
        options.Validate();
        if (options.Resume) throw new ArgumentException("training option 'resume': fine-tuning a backbone does not write resumable checkpoints; run it again without --resume.");
        if (options.Loss != RewardLossKind.BradleyTerry) throw new ArgumentException($"training option 'loss': a backbone is fine-tuned with bradley-terry only (got {options.Loss}).");
        if (options.Init is not null || options.Tokenizer is not null) throw new ArgumentException("training options 'init' and 'tokenizer' do not apply with a backbone (it brings its own weights and WordPiece vocabulary).");
        Options = options;
        Backbone = backbone;
    }

    /// <summary>The run's options.</summary>
    public RewardTrainingOptions Options { get; }

    /// <summary>The backbone and pooling.</summary>
    public BertBackboneOptions Backbone { get; }

    /// <summary>Receives start-up checks, every step, evaluations and saves.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>
    /// Trains on the pairs of <paramref name="trainPaths"/>, evaluating on <paramref name="evalPath"/> (optional), writing
    /// <c>OUT/model</c> (a BertForSequenceClassification folder) and <c>OUT/metrics.jsonl</c>.
    /// </summary>
    public TrainingResult Train(IReadOnlyList<string> trainPaths, string? evalPath, string outputDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainPaths);
        if (trainPaths.Count == 0) throw new ArgumentException("Train: give at least one training file.", nameof(trainPaths));
        var o = Options;
        Directory.CreateDirectory(outputDirectory);
        var modelDir = Path.Combine(outputDirectory, "model");
        var checkpointDir = Path.Combine(outputDirectory, "checkpoint");

        // ---- backbone, tokenizer, data ------------------------------------------------------------------------------
        var backboneDir = Backbone.Resolve(new SayProgress(Say));
        var tokenizer = WordPieceTokenizer.FromFile(backboneDir);
        var (model, report) = BertModelFolder.InitializeFrom(backboneDir, o.Seed, Backbone.Pooling,
            c => c with { HiddenDropout = Backbone.Dropout, AttentionDropout = 0 });
        Say($"backbone {Backbone.Backbone} ({backboneDir}): {report.Loaded.Count} tensors loaded, initialised [{string.Join(", ", report.Missing)}], {report.Unexpected.Count} unused");
        if (o.MaxLength > model.Config.MaxPositions)
            throw new ArgumentException($"training option 'max_length': {o.MaxLength} exceeds max_position_embeddings = {model.Config.MaxPositions} of the backbone; lower max_length.");
        var encoder = new CrossEncoderSequenceEncoder(tokenizer, new SequenceOptions { MaxLength = o.MaxLength, OnOverflow = (OverflowPolicy)o.OnOverflow });
        var train = EncodeFiles("train", trainPaths, encoder, cancellationToken);
        var eval = evalPath is null ? null : EncodeFiles("eval", [evalPath], encoder, cancellationToken);
        foreach (var checks in eval is null ? train.Checks : [.. train.Checks, .. eval.Checks])
            foreach (var line in checks.Lines()) Say(line);
        Say($"model {model.Config}, {Backbone.Pooling} pooling ({model.ParameterCount:N0} parameters, all trained), dropout {Backbone.Dropout}");

        // ---- optimisation --------------------------------------------------------------------------------------------
        using var pool = new WorkerPool(o.Threads);
        var adam = RewardTrainer.CreateOptimizer(model.Parameters, o, pool);
        var dropoutRng = new Rng(o.Seed ^ 0x5DEECE66DUL);
        var lengths = train.Pairs.Select(p => p.MaxLength).ToArray();
        BatchPlan PlanFor(int epoch) => LengthBuckets.Plan(lengths, new BatchingOptions
        {
            BatchSize = o.BatchSize, BucketBatches = BucketBatches, Shuffle = true, Seed = unchecked((int)(o.Seed * 1_000_003UL) + epoch),
        });
        var plan = PlanFor(0);
        int accum = o.GradientAccumulationSteps;
        long totalSteps = o.MaxSteps > 0 ? o.MaxSteps : (long)Math.Ceiling(o.Epochs * (double)plan.Batches.Count / accum);
        long warmup = (long)Math.Ceiling(o.WarmupRatio * totalSteps);
        var schedule = o.Schedule switch
        {
            "linear" => LearningRateSchedule.LinearWithWarmup(o.LearningRate, warmup, totalSteps),
            "constant" => LearningRateSchedule.Constant(o.LearningRate),
            _ => LearningRateSchedule.CosineWithWarmup(o.LearningRate, warmup, totalSteps),
        };
        Say($"{train.Pairs.Count} pairs, {plan.Batches.Count} batches of {o.BatchSize} pairs per epoch ({plan.PaddingFraction:P1} padding), {totalSteps} steps, warm-up {warmup}, peak lr {o.LearningRate:G3}");

        var tape = new Tape(pool) { GarbageBudgetBytes = Tape.TrainingGarbageBudgetBytes };
        var evalTape = new Tape(pool) { RecordsGradients = false };
        var metricsPath = Path.Combine(outputDirectory, RewardTrainer.MetricsFileName);
        using var metricsFile = new StreamWriter(metricsPath, append: false) { AutoFlush = true };
        var losses = new List<double>();
        Dictionary<string, double> lastTrain = [], bestEval = [];
        float[]? best = null;
        double? bestScore = null;
        long step = 0, bestStep = 0;
        int epoch = 0, cursor = 0;
        while (step < totalSteps)
        {
            if (cancellationToken.IsCancellationRequested)
                return new TrainingResult { CheckpointDirectory = checkpointDir, Steps = step, Cancelled = true, CheckpointWritten = false, Losses = losses };
            var clock = Stopwatch.StartNew();
            model.Parameters.ZeroGrad();
            double lossSum = 0;
            long tokens = 0;
            var chosenRewards = new List<float>();
            var rejectedRewards = new List<float>();
            for (int micro = 0; micro < accum; micro++)
            {
                if (cursor >= plan.Batches.Count) { plan = PlanFor(++epoch); cursor = 0; }
                var batch = plan.Batches[cursor++].Select(i => train.Pairs[i]).ToArray();
                var (chosen, rejected, tokenBatch) = Forward(tape, model, batch, training: true, dropoutRng);
                tokens += tokenBatch.Lengths.Sum();
                var loss = Loss(tape, chosen, rejected, batch);
                float value = loss.ToScalar();
                if (!float.IsFinite(value)) throw new TrainingDivergedException($"step {step + 1}: the loss is {value}; lower learning_rate.", step + 1, null);
                lossSum += value / accum;
                chosenRewards.AddRange(chosen.ToArray());
                rejectedRewards.AddRange(rejected.ToArray());
                tape.Backward(loss, 1f / accum);
                tape.Reset();
            }
            double lr = schedule.At(step);
            adam.LearningRate = lr;
            double gradNorm = RewardTrainer.ClipGradients(model.Parameters, o, pool);
            if (!double.IsFinite(gradNorm)) throw new TrainingDivergedException($"step {step + 1}: the gradient norm is {gradNorm}; lower learning_rate.", step + 1, null);
            adam.Step();
            step++;
            losses.Add(lossSum);
            var m = PreferenceMetrics.Compute(chosenRewards.ToArray(), rejectedRewards.ToArray());
            lastTrain = new Dictionary<string, double>
            {
                ["step"] = step, ["epoch"] = Math.Round(epoch + (double)cursor / plan.Batches.Count, 4), ["loss"] = lossSum,
                ["accuracy"] = m.Accuracy, ["margin"] = m.Margin, ["mean_reward"] = m.MeanReward, ["grad_norm"] = gradNorm,
                ["learning_rate"] = lr, ["tokens_per_s"] = Math.Round(tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), 1),
            };
            metricsFile.WriteLine(JsonSerializer.Serialize(lastTrain));
            Report(TrainingStage.Training, step, totalSteps, lossSum, lr);

            if (eval is not null && ((o.EvalEvery > 0 && step % o.EvalEvery == 0) || step == totalSteps))
            {
                var row = Evaluate(evalTape, model, eval.Pairs, step, cancellationToken);
                metricsFile.WriteLine(JsonSerializer.Serialize(row));
                double score = o.BestMetric == "loss" ? -row["eval_loss"] : row["eval_accuracy"];
                bool improved = bestScore is null || score > bestScore.Value;
                if (improved) { bestScore = score; bestStep = step; best = model.Parameters.Values.ToArray(); bestEval = row; }
                Report(TrainingStage.Evaluating, step, totalSteps, lossSum, lr,
                    $"step {step}: eval_loss {row["eval_loss"]:F4}, eval_accuracy {row["eval_accuracy"]:F4}" + (improved ? " (best)" : $" (best at step {bestStep})"));
            }
        }

        // ---- output --------------------------------------------------------------------------------------------------
        if (best is not null) best.CopyTo(model.Parameters.Values);
        else bestStep = step;
        Report(TrainingStage.Saving, step, totalSteps, losses.LastOrDefault(double.NaN), adam.LearningRate, "scoring training pairs for the reward statistics");
        var sample = RewardTrainer.StatisticsSample(train.Pairs, o.Seed);
        int stride = (sample.Count + StatisticsPairs - 1) / StatisticsPairs;   // an encoder forward costs ~50× the tiny GPT-2's
        if (stride > 1) sample = [.. sample.Where((_, i) => i % stride == 0)];
        var (c, r) = ScorePairs(evalTape, model, sample, cancellationToken);
        double[] rewards = [.. c.Select(x => (double)x), .. r.Select(x => (double)x)];
        double mean = rewards.Average();
        double std = Math.Sqrt(rewards.Sum(x => (x - mean) * (x - mean)) / rewards.Length);
        var metadata = new RewardModelMetadata
        {
            Name = Path.GetFileName(Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar)),
            MaxLength = o.MaxLength, RewardMean = mean, RewardStd = std > 0 ? std : 1,
            RewardHistogram = RewardTrainer.Histogram(rewards, RewardTrainer.HistogramBins),
            Extra = new Dictionary<string, JsonElement>
            {
                ["backbone"] = JsonSerializer.SerializeToElement(Backbone.Backbone),
                ["training_options"] = JsonSerializer.SerializeToElement(o.ToYaml()),
                ["train_data_sha256"] = JsonSerializer.SerializeToElement(train.Sha256),
                ["train_data_files"] = JsonSerializer.SerializeToElement(trainPaths.Select(Path.GetFileName).ToArray()),
                ["steps"] = JsonSerializer.SerializeToElement(step),
                ["best_step"] = JsonSerializer.SerializeToElement(bestStep),
                ["final_train_metrics"] = JsonSerializer.SerializeToElement(lastTrain),
                ["final_eval_metrics"] = JsonSerializer.SerializeToElement(bestEval),
            },
        };
        BertModelFolder.Save(model, tokenizer, modelDir, metadata);
        Report(TrainingStage.Saving, step, totalSteps, losses.LastOrDefault(double.NaN), adam.LearningRate,
            $"model saved to {modelDir} (step {bestStep}; training rewards mean {mean:F3}, std {std:F3})");
        return new TrainingResult
        {
            ModelDirectory = modelDir, CheckpointDirectory = checkpointDir, Steps = step, CheckpointWritten = false,
            Checks = eval is null ? train.Checks : [.. train.Checks, .. eval.Checks], FinalTrainMetrics = lastTrain, BestEvalMetrics = bestEval,
            BestStep = bestStep, Losses = losses,
        };
    }

    /// <summary>Reads and encodes files into one split, with the same start-up checks as the GPT-2 path.</summary>
    EncodedSplit EncodeFiles(string split, IReadOnlyList<string> paths, CrossEncoderSequenceEncoder encoder, CancellationToken ct)
    {
        var seen = new HashSet<(string, string, string)>();
        var kept = new List<EncodedPair>();
        var checks = new List<StartupChecks>();
        foreach (var path in paths)
        {
            Say($"reading {path}");
            var (pairs, read) = TrainingData.Read(path, Options, ct);
            var truncation = new TruncationReport();
            var dropped = new Dictionary<string, long>();
            long duplicates = 0, identical = 0;
            int longest = 0, before = kept.Count;
            foreach (var p in pairs)
            {
                ct.ThrowIfCancellationRequested();
                if (!seen.Add((p.Prompt, p.Chosen, p.Rejected))) duplicates++;
                if (string.Equals(p.Chosen, p.Rejected, StringComparison.Ordinal)) { identical++; continue; }
                var c = encoder.Encode(p.Prompt, p.Chosen, truncation, $"{path}:{p.LineNumber} chosen");
                var r = encoder.Encode(p.Prompt, p.Rejected, truncation, $"{path}:{p.LineNumber} rejected");
                string? reason = c is null || r is null ? $"longer than max_length = {encoder.Options.MaxLength} (on_overflow: drop)"
                    : c.Length - c.ResponseStart <= 1 || r.Length - r.ResponseStart <= 1 ? "a response encodes to no tokens" : null;
                if (reason is not null) { dropped[reason] = dropped.GetValueOrDefault(reason) + 1; continue; }
                longest = Math.Max(longest, Math.Max(c!.Length, r!.Length));
                kept.Add(new EncodedPair(c, r, (float)(p.Margin ?? 0), (float)(p.Weight ?? 1)));
            }
            checks.Add(new StartupChecks
            {
                Split = split, File = path, PairsRead = pairs.Count, RecordsSkipped = read.SkippedCount, PairsKept = kept.Count - before,
                PromptsTruncated = truncation.PromptTruncated, ResponsesTruncated = truncation.ResponseTruncated, Dropped = dropped,
                Duplicates = duplicates, ChosenEqualsRejected = identical, PooledInsideResponse = 2L * (kept.Count - before), LongestSequence = longest,
            });
        }
        if (kept.Count == 0) throw new InvalidDataException($"{string.Join(", ", paths)}: no usable pairs; check the files and max_length.");
        return new EncodedSplit(kept, checks, TrainingData.Sha256(paths));
    }

    static (Tensor Chosen, Tensor Rejected, TokenBatch Batch) Forward(Tape tape, BertRewardModel model, IReadOnlyList<EncodedPair> batch, bool training, Rng? rng)
    {
        int n = batch.Count;
        var rows = new int[2 * n][];
        for (int i = 0; i < n; i++) { rows[i] = batch[i].Chosen.Ids; rows[n + i] = batch[i].Rejected.Ids; }   // chosen rows, then rejected
        var tokens = TokenBatch.FromSequences(rows, model.Config.PadTokenId);
        var rewards = model.Forward(tape, tokens, training, rng);                                               // (2B)
        var halves = tape.Split(rewards, [n, n], 0);
        return (halves[0], halves[1], tokens);
    }

    Tensor Loss(Tape tape, Tensor chosen, Tensor rejected, IReadOnlyList<EncodedPair> batch)
    {
        var o = Options;
        Tensor Column(Func<EncodedPair, float> field)
        {
            var t = tape.Empty([batch.Count]);
            for (int i = 0; i < batch.Count; i++) t.Data[i] = field(batch[i]);
            return t;
        }
        return BradleyTerry.Loss(tape, chosen, rejected, margin: o.UseMargin ? Column(p => p.Margin) : null,
            labelSmoothing: (float)o.LabelSmoothing, weights: o.UseWeights ? Column(p => p.Weight) : null,
            centerRewardsCoefficient: (float)o.CenterRewardsCoefficient);
    }

    Dictionary<string, double> Evaluate(Tape tape, BertRewardModel model, IReadOnlyList<EncodedPair> pairs, long step, CancellationToken ct)
    {
        var (chosen, rejected) = ScorePairs(tape, model, pairs, ct);
        var c = tape.Empty([pairs.Count]); chosen.CopyTo(c.Data);
        var r = tape.Empty([pairs.Count]); rejected.CopyTo(r.Data);
        double loss = Loss(tape, c, r, pairs).ToScalar();
        tape.Reset();
        var m = PreferenceMetrics.Compute(chosen, rejected);
        return new Dictionary<string, double>
        {
            ["step"] = step, ["eval_loss"] = loss, ["eval_accuracy"] = m.Accuracy, ["eval_margin"] = m.Margin, ["eval_mean_reward"] = m.MeanReward,
        };
    }

    (float[] Chosen, float[] Rejected) ScorePairs(Tape tape, BertRewardModel model, IReadOnlyList<EncodedPair> pairs, CancellationToken ct)
    {
        var chosen = new float[pairs.Count];
        var rejected = new float[pairs.Count];
        var plan = LengthBuckets.Plan(pairs.Select(p => p.MaxLength).ToArray(),
            new BatchingOptions { BatchSize = Math.Max(Options.BatchSize, 16), BucketBatches = Math.Max(1, pairs.Count), Shuffle = false });
        foreach (var indices in plan.Batches)
        {
            ct.ThrowIfCancellationRequested();
            var (c, r, _) = Forward(tape, model, indices.Select(i => pairs[i]).ToArray(), training: false, null);
            for (int k = 0; k < indices.Length; k++) { chosen[indices[k]] = c.Data[k]; rejected[indices[k]] = r.Data[k]; }
            tape.Reset();
        }
        return (chosen, rejected);
    }

    void Say(string message) => Progress?.Report(new TrainingProgress(TrainingStage.Preparing, 0, 0, double.NaN, 0, message));

    void Report(TrainingStage stage, long step, long total, double loss, double lr, string? message = null) =>
        Progress?.Report(new TrainingProgress(stage, step, total, loss, lr, message));

    sealed class SayProgress(Action<string> say) : IProgress<string>
    {
        public void Report(string value) => say(value);
    }
}
