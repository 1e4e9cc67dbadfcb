using System.Diagnostics;
using System.Text.Json;
using RewardKit.Data;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Training;

/// <summary>What <see cref="PolicySftTrainer.Train"/> produced.</summary>
public sealed record SftResult
{
    /// <summary>The policy folder (<c>OUT/policy</c>, a <c>GPT2LMHeadModel</c>), or null when the run was cancelled before it was written.</summary>
    public string? PolicyDirectory { get; init; }
    /// <summary>The checkpoint folder (<c>OUT/checkpoint</c>).</summary>
    public required string CheckpointDirectory { get; init; }
    /// <summary>Optimiser steps completed (resumed ones included).</summary>
    public long Steps { get; init; }
    /// <summary>True when cancellation stopped the run (after a checkpoint).</summary>
    public bool Cancelled { get; init; }
    /// <summary>Examples read from the data files.</summary>
    public long Examples { get; init; }
    /// <summary>Sequences trained on (examples whose response kept at least one token).</summary>
    public long Sequences { get; init; }
    /// <summary>Sequences whose loss includes predicting end-of-text after the response (all of them with <see cref="SftOptions.AppendEos"/>).</summary>
    public long EndOfTextTargets { get; init; }
    /// <summary>The training loss of every step, in order (a resumed run's earlier steps from metrics.jsonl).</summary>
    public IReadOnlyList<double> Losses { get; init; } = [];
}

/// <summary>
/// Supervised fine-tuning of a policy (<c>rewardkit sft</c>): the causal-LM loss on the response tokens of prompt/response
/// records or of the chosen responses of pairs (<see cref="SftData"/>), each response followed by end-of-text so the policy
/// learns to stop, through the training core (<see cref="TrainingStep"/> inside the same SFT loop the reward trainer's warm
/// start uses; atomic checkpoints, bit-identical <c>--resume</c>, <c>metrics.jsonl</c>):
/// <code>
/// var result = new PolicySftTrainer(new SftOptions { Init = "rm/model", MaxSteps = 1000 }).Train(["train.jsonl"], "sft");
/// var policy = Policy.Load(result.PolicyDirectory!);   // sft/policy: a GPT2LMHeadModel folder `generate` and `rl --policy` open
/// </code>
/// The policy starts from <see cref="SftOptions.Init"/> (a policy, a Hugging Face GPT-2 folder or a reward model's backbone)
/// or from scratch (<see cref="SftOptions.Preset"/>). No console I/O: progress goes to <see cref="Progress"/>.
/// </summary>
public sealed class PolicySftTrainer
{
    /// <summary>The policy folder inside the output folder.</summary>
    public const string PolicyFolderName = "policy";

    /// <summary>A trainer for <paramref name="options"/> (validated here).</summary>
    public PolicySftTrainer(SftOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validate();
    }

    /// <summary>The options of the run.</summary>
    public SftOptions Options { get; }

    /// <summary>Receives start-up lines (stage Preparing), every step (Training) and saves (Saving).</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Receives every metrics row as written to <c>metrics.jsonl</c> (<c>step</c>, <c>epoch</c>, <c>loss</c>, <c>grad_norm</c>, <c>learning_rate</c>, <c>tokens_per_s</c>).</summary>
    public Action<IReadOnlyDictionary<string, double>>? Metrics { get; init; }

    /// <summary>
    /// The data-parallel job this process is a rank of (<c>mpirun -np N rewardkit sft ...</c>): each rank takes its share of
    /// every batch, gradients are summed with Allreduce, rank 0 alone writes files. Default: one process.
    /// </summary>
    public Distributed.ICommunicator Communicator { get; init; } = Distributed.SingleProcessCommunicator.Instance;

    /// <summary>Test hook: runs inside each checkpoint save just before the rename (it may throw).</summary>
    internal Action? BeforeCheckpointRename { get; init; }

    /// <summary>
    /// Trains on the examples of <paramref name="dataPaths"/> (in order), writing <c>OUT/policy</c>, <c>OUT/checkpoint</c> and
    /// <c>OUT/metrics.jsonl</c>. On cancellation a checkpoint is saved and the result says <see cref="SftResult.Cancelled"/>;
    /// with <see cref="SftOptions.Resume"/> the run continues from it and ends with the weights an uninterrupted run has.
    /// </summary>
    public SftResult Train(IReadOnlyList<string> dataPaths, string outputDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataPaths);
        if (dataPaths.Count == 0) throw new ArgumentException("sft: give at least one data file.", nameof(dataPaths));
        foreach (var path in dataPaths) ArgumentException.ThrowIfNullOrEmpty(path, nameof(dataPaths));
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        if (Communicator.Rank == 0) Directory.CreateDirectory(outputDirectory);
        var run = new PolicySftRun(this, outputDirectory, cancellationToken);
        return run.Execute(dataPaths);
    }

    internal void Say(string message) => (Communicator.Rank == 0 ? Progress : null)?.Report(new TrainingProgress(TrainingStage.Preparing, 0, 0, double.NaN, 0, message));

    internal void Report(TrainingStage stage, long step, long total, double loss, double lr, string? message = null) =>
        (Communicator.Rank == 0 ? Progress : null)?.Report(new TrainingProgress(stage, step, total, loss, lr, message));
}

/// <summary>
/// The state of one <see cref="PolicySftTrainer"/> run: data, policy, the SFT loop, checkpoints and metrics. As one rank of
/// a data-parallel job, what differs goes through <see cref="DataParallel"/> as in <see cref="TrainingRun"/>: the same data
/// on every rank (checked), rank 0's weights and (resuming) its checkpoint on every rank, shards of every batch inside
/// <see cref="SftWarmStart"/>, an agreed stop, and rank 0 alone writing metrics, checkpoints and the policy.
/// </summary>
internal sealed class PolicySftRun(PolicySftTrainer trainer, string outputDirectory, CancellationToken ct)
{
    /// <summary>max_length when the options leave it unset (capped by the model's n_positions).</summary>
    const int DefaultMaxLength = 128;

    readonly SftOptions _o = trainer.Options;
    readonly DataParallel _dp = new(trainer.Communicator, trainer.Options.Seed);
    readonly string _checkpointDirectory = Path.Combine(outputDirectory, "checkpoint");
    readonly List<double> _losses = [];
    int _maxLength;

    public SftResult Execute(IReadOnlyList<string> dataPaths)
    {
        if (_dp.IsRoot)
            foreach (var line in TrainingCheckpoint.Tidy(outputDirectory, _checkpointDirectory, PolicySftTrainer.PolicyFolderName)) trainer.Say(line);
        var resumed = _dp.ShareCheckpoint(_o.Resume && _dp.IsRoot ? TrainingCheckpoint.LoadIfPresent(_checkpointDirectory) : null);   // rank 0's, on every rank
        if (_o.Resume && resumed is null) trainer.Say($"resume: no checkpoint in {_checkpointDirectory} yet, so the run starts from the beginning");
        var (examples, sha) = ReadData(dataPaths, resumed);
        _dp.RequireSameData(sha);
        var policy = CreatePolicy(examples, resumed);
        _dp.ShareParameters(policy.Model.Parameters);   // every rank starts from rank 0's weights
        var (sequences, eosTargets) = Encode(policy, examples);
        using var pool = new WorkerPool(_o.Threads);
        var tape = new Tape(pool) { GarbageBudgetBytes = Tape.TrainingGarbageBudgetBytes };
        var settings = new SftSettings(_o.LearningRate, _o.BatchSize, _o.Seed, _o.MaxGradNorm, _o.WeightDecay, _o.WarmupRatio);
        int[] lengths = [.. sequences.Select(s => s.Length)];
        int batches = SftWarmStart.PlanFor(lengths, settings, 0).Batches.Count;
        long steps = _o.MaxSteps > 0 ? _o.MaxSteps : (long)Math.Ceiling(_o.Epochs * batches);
        var dropoutRng = new Rng(_o.Seed ^ 0x5DEECE66DUL);
        var position = resumed?.State.WarmStart ?? new WarmStartState();
        var model = policy.Model;
        var sft = new SftWarmStart(model.Parameters, (t, batch, rng) => model.LanguageModelLoss(t, batch, responseOnly: true, training: true, rng),
            sequences, settings, Math.Max(0, policy.Tokenizer.PadId), tape, pool, dropoutRng, steps, position, Diverged, _dp);
        if (resumed is not null) Restore(resumed, model, sft, dropoutRng);
        trainer.Say($"{sequences.Count} sequences ({eosTargets} ending with end-of-text inside the loss), {batches} batches of {_o.BatchSize} per epoch, "
            + $"{steps} steps, peak lr {_o.LearningRate:G3}" + (position.Step > 0 ? $"; continuing after step {position.Step}" : "")
            + (_dp.Size > 1 ? $"; data-parallel over {_dp.Size} ranks, each taking its share of every batch" : ""));
        var state = new TrainingState { TrainDataSha256 = sha, OptionsYaml = _o.ToYaml(), WarmStart = position };
        using (var metrics = _dp.IsRoot ? MetricsLog.Open(Path.Combine(outputDirectory, RewardTrainer.MetricsFileName), resumed is null ? null : KeepRow(position.Step), trainer.Metrics) : null)
        {
            if (!TrainSteps(sft, metrics, state, policy, dropoutRng)) return Result(null, sft, cancelled: true, examples.Count, sequences.Count, eosTargets);
        }
        var directory = Path.Combine(outputDirectory, PolicySftTrainer.PolicyFolderName);
        SavePolicy(policy, directory, dataPaths, sha, steps);
        return Result(directory, sft, cancelled: false, examples.Count, sequences.Count, eosTargets);
    }

    /// <summary>Steps to the end, checkpointing every <see cref="SftOptions.CheckpointEvery"/> steps and at the end. False when cancelled (after a checkpoint).</summary>
    bool TrainSteps(SftWarmStart sft, MetricsLog? metrics, TrainingState state, Policy policy, Rng dropoutRng)
    {
        while (!sft.Done)
        {
            if (_dp.AgreeToStop(ct.IsCancellationRequested))
            {
                Checkpoint(sft, state, policy, dropoutRng);
                return false;
            }
            var result = sft.Next();
            _losses.Add(result.Loss);
            metrics?.Write(new Dictionary<string, double>
            {
                ["step"] = sft.Position.Step, ["epoch"] = Math.Round(sft.Epoch, 4), ["loss"] = result.Loss, ["grad_norm"] = result.GradNorm,
                ["learning_rate"] = result.LearningRate, ["tokens_per_s"] = Math.Round(result.TokensPerSecond, 1), ["world_size"] = _dp.Size,
            });
            trainer.Report(TrainingStage.Training, sft.Position.Step, sft.Steps, result.Loss, result.LearningRate);
            if (_o.CheckpointEvery > 0 && sft.Position.Step % _o.CheckpointEvery == 0 && !sft.Done) Checkpoint(sft, state, policy, dropoutRng);
        }
        Checkpoint(sft, state, policy, dropoutRng);
        return true;
    }

    (List<SftExample> Examples, string Sha256) ReadData(IReadOnlyList<string> dataPaths, TrainingCheckpoint.Contents? resumed)
    {
        var examples = new List<SftExample>();
        var digests = new List<string>();
        foreach (var path in dataPaths)
        {
            trainer.Say($"reading {path}");
            var (read, report) = SftData.Read(path, new ReaderOptions { SkipInvalid = _o.SkipInvalid }, ct);
            foreach (var issue in report.Skipped.Take(20)) trainer.Say($"skipped {issue}");
            trainer.Say($"{path}: {read.Count} examples; {report.Summary()}");
            examples.AddRange(read);
            digests.Add(report.Sha256!);
        }
        if (examples.Count == 0) throw new InvalidDataException($"{string.Join(", ", dataPaths)}: no examples to learn from; give prompt/response records or pairs.");
        var sha = TrainingData.Combine(digests);
        if (resumed is not null && resumed.State.TrainDataSha256 != sha)
            throw new InvalidDataException($"{string.Join(", ", dataPaths)}: the data changed since the checkpoint in {_checkpointDirectory}; resume with the same files in the same order, or run without --resume.");
        return (examples, sha);
    }

    /// <summary>The starting policy: from <see cref="SftOptions.Init"/> or a new <see cref="SftOptions.Preset"/> model, with the run's EOS and dropout.</summary>
    Policy CreatePolicy(List<SftExample> examples, TrainingCheckpoint.Contents? resumed)
    {
        var template = PromptTemplate.FromName(_o.Template ?? InitTemplate() ?? (examples.Any(e => e.Prompt.Contains("\n\nHuman:", StringComparison.Ordinal)) ? "hh" : "plain"));
        var tokenizer = LoadOrTrainTokenizer(examples, template, resumed);
        if (_o.AppendEos && tokenizer.EndOfTextId < 0)
            throw new ArgumentException($"append_eos: the tokenizer has no <|endoftext|> token, so the policy cannot learn to stop; use a tokenizer with one or set append_eos: false.");
        GptLanguageModel model;
        if (_o.Init is not null)
        {
            var (loaded, report) = PolicyFolder.InitializeFrom(_o.Init);
            trainer.Say($"init from {_o.Init}: {report.Loaded.Count} tensors loaded, {report.Unexpected.Count} unused ({string.Join(", ", report.Unexpected)})");
            model = loaded;
        }
        else
        {
            var preset = GptConfig.Preset(OptionNames.Name(_o.Preset), tokenizer.VocabSize, tokenizer.EndOfTextId >= 0 ? tokenizer.EndOfTextId : null);
            model = GptLanguageModel.Create(preset with { VocabSize = tokenizer.VocabSize, Positions = Math.Max(preset.Positions, _o.MaxLength ?? 0) }, _o.Seed);
        }
        var config = model.Config with
        {
            EosTokenId = tokenizer.EndOfTextId >= 0 ? tokenizer.EndOfTextId : model.Config.EosTokenId,
            PadTokenId = tokenizer.PadId >= 0 ? tokenizer.PadId : model.Config.PadTokenId,
            EmbeddingDropout = _o.Dropout, ResidualDropout = _o.Dropout, AttentionDropout = 0,
        };
        if (config != model.Config)
        {
            var copy = new GptLanguageModel(config);
            model.Parameters.Values.CopyTo(copy.Parameters.Values);
            model = copy;
        }
        if (tokenizer.VocabSize > config.VocabSize)
            throw new ArgumentException($"init: {_o.Init} has vocab_size {config.VocabSize} but its tokenizer has {tokenizer.VocabSize} tokens; the folder is inconsistent.");
        _maxLength = _o.MaxLength ?? Math.Min(DefaultMaxLength, config.Positions);
        if (_maxLength > config.Positions)
            throw new ArgumentException($"max_length: {_maxLength} exceeds n_positions = {config.Positions} of the model; lower max_length.");
        trainer.Say($"policy {config} ({model.ParameterCount:N0} parameters), template {template.Name}, tokenizer {tokenizer.VocabSize} tokens (end-of-text id {tokenizer.EndOfTextId})");
        var metadata = new RewardModelMetadata { Template = template.Name, MaxLength = _maxLength, AppendEndOfText = _o.AppendEos };
        return new Policy(model, tokenizer, template, metadata);
    }

    string? InitTemplate() =>
        _o.Init is not null && File.Exists(Path.Combine(_o.Init, RewardModelMetadata.FileName)) && RewardModelMetadata.Load(_o.Init).Template is { Length: > 0 } t ? t : null;

    ByteLevelBpeTokenizer LoadOrTrainTokenizer(List<SftExample> examples, PromptTemplate template, TrainingCheckpoint.Contents? resumed)
    {
        if (resumed is not null) return _dp.ShareTokenizer(Path.Combine(_checkpointDirectory, TrainingCheckpoint.TokenizerFolder));   // rank 0's checkpoint
        if (_o.Init is not null) return ByteLevelBpeTokenizer.FromDirectory(_o.Init);
        if (_o.Tokenizer is not null) return ByteLevelBpeTokenizer.FromDirectory(_o.Tokenizer);
        var clock = Stopwatch.StartNew();
        var texts = examples.Select(e => e.Prompt).Distinct(StringComparer.Ordinal).Select(p => template.Render(p, "").Prompt)
            .Concat(examples.Select(e => template.Render(e.Prompt, e.Response).Response));
        var tokenizer = BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = _o.VocabSize, Threads = _o.Threads }, ct);
        _dp.RequireSameTokenizer(tokenizer);
        trainer.Say($"trained a BPE tokenizer of {tokenizer.VocabSize} tokens on the data in {clock.Elapsed.TotalSeconds:F1} s");
        return tokenizer;
    }

    /// <summary>[prompt ; response ; end-of-text] per example (prompt cut from the left when too long); how many end with end-of-text.</summary>
    (List<EncodedSequence> Sequences, long EosTargets) Encode(Policy policy, List<SftExample> examples)
    {
        var encoder = new SequenceEncoder(policy.Tokenizer, new SequenceOptions { MaxLength = _maxLength, AppendEndOfText = _o.AppendEos }, policy.Template);
        var truncation = new TruncationReport();
        var sequences = new List<EncodedSequence>(examples.Count);
        long empty = 0, eos = 0;
        foreach (var e in examples)
        {
            ct.ThrowIfCancellationRequested();
            var s = encoder.Encode(e.Prompt, e.Response, truncation, $"line {e.Line}");
            if (s is null || s.ResponseStart < 1 || s.ResponseStart >= s.Length) { empty++; continue; }
            if (_o.AppendEos && s.Ids[^1] == policy.Tokenizer.EndOfTextId) eos++;
            sequences.Add(s);
        }
        trainer.Say($"encoding: {truncation}" + (empty > 0 ? $"; {empty} examples left out (no response token to learn, or an empty prompt)" : ""));
        if (sequences.Count == 0) throw new InvalidDataException("sft: no example has a response token to learn; check the data and max_length.");
        return (sequences, eos);
    }

    void Restore(TrainingCheckpoint.Contents resumed, GptLanguageModel model, SftWarmStart sft, Rng dropoutRng)
    {
        if (resumed.Parameters.Length != model.ParameterCount)
            throw new InvalidDataException($"{_checkpointDirectory}: the checkpoint has {resumed.Parameters.Length} parameters but this model has {model.ParameterCount}; resume with the options of the original run.");
        resumed.Parameters.CopyTo(model.Parameters.Values);
        sft.Optimizer.LoadState(resumed.Optimizer);
        dropoutRng.SetState(resumed.State.DropoutRng);
        trainer.Say($"resumed from {_checkpointDirectory} at step {sft.Position.Step}");
    }

    /// <summary>Keeps the rows up to the checkpoint's step (and restores their losses).</summary>
    Func<IReadOnlyDictionary<string, double>, bool> KeepRow(long step) => row =>
    {
        if (!row.TryGetValue("step", out var s) || s > step) return false;
        if (row.TryGetValue("loss", out var loss)) _losses.Add(loss);
        return true;
    };

    void Checkpoint(SftWarmStart sft, TrainingState state, Policy policy, Rng dropoutRng)
    {
        trainer.Report(TrainingStage.Saving, sft.Position.Step, sft.Steps, _losses.LastOrDefault(double.NaN), sft.Optimizer.LearningRate, $"checkpoint at step {sft.Position.Step}");
        state.Step = sft.Position.Step;
        state.DropoutRng = dropoutRng.GetState();
        _dp.RequireSameParameters(policy.Model.Parameters, sft.Position.Step);
        if (!_dp.IsRoot) return;
        var contents = new TrainingCheckpoint.Contents(state, policy.Model.Parameters.Values.ToArray(), sft.Optimizer.SaveState(), null);
        TrainingCheckpoint.Save(_checkpointDirectory, contents, policy.Tokenizer, trainer.BeforeCheckpointRename);
    }

    void SavePolicy(Policy policy, string directory, IReadOnlyList<string> dataPaths, string sha, long steps)
    {
        policy.Metadata.Name = Path.GetFileName(Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar));
        policy.Metadata.Extra = new Dictionary<string, JsonElement>
        {
            ["sft_options"] = JsonSerializer.SerializeToElement(_o.ToYaml()),
            ["train_data_sha256"] = JsonSerializer.SerializeToElement(sha),
            ["train_data_files"] = JsonSerializer.SerializeToElement(dataPaths.Select(Path.GetFileName).ToArray()),
            ["sft_steps"] = JsonSerializer.SerializeToElement(steps),
            ["final_loss"] = JsonSerializer.SerializeToElement(_losses.LastOrDefault(double.NaN)),
            ["world_size"] = JsonSerializer.SerializeToElement(_dp.Size),
        };
        if (_dp.IsRoot) policy.Save(directory);
        trainer.Report(TrainingStage.Saving, steps, steps, _losses.LastOrDefault(double.NaN), 0, $"policy saved to {directory}");
    }

    Exception Diverged(Divergence d) => new TrainingDivergedException(
        $"sft step {d.Step}: the {d.Quantity} is {d.Value}; training stopped before applying the update. "
        + (TrainingCheckpoint.Exists(_checkpointDirectory) ? $"Continue from {_checkpointDirectory} with --resume and " : "") + "lower learning_rate.",
        d.Step, TrainingCheckpoint.Exists(_checkpointDirectory) ? _checkpointDirectory : null);

    SftResult Result(string? directory, SftWarmStart sft, bool cancelled, long examples, long sequences, long eos) => new()
    {
        PolicyDirectory = directory, CheckpointDirectory = _checkpointDirectory, Steps = sft.Position.Step, Cancelled = cancelled,
        Examples = examples, Sequences = sequences, EndOfTextTargets = eos, Losses = _losses,
    };
}
