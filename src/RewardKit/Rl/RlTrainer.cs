// Shapes: B = prompts × samples rows of a rollout, R its longest response; per-token arrays (B·R) as in Advantages.cs.
using System.Diagnostics;
using RewardKit.Data.World;
using RewardKit.Distributed;
using RewardKit.Generation;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors.Optim;
using RewardKit.Text;
using RewardKit.Training;

namespace RewardKit.Rl;

/// <summary>Where an RL run is, for a progress line.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="MaxSteps">Steps of the run.</param>
/// <param name="Row">The step's metrics row (TRL names).</param>
public sealed record RlProgress(long Step, long MaxSteps, IReadOnlyDictionary<string, double> Row);

/// <summary>A held-out evaluation: one fixed-seed sample per prompt, scored by the proxy and (on world prompts) the gold judge.</summary>
/// <param name="ProxyReward">Mean combined reward-model score.</param>
/// <param name="GoldReward">Mean gold reward, or null when the prompts are not all world prompts.</param>
/// <param name="Kl">Mean sequence KL to the reference, Σₜ (log π − log π_ref) (k1).</param>
/// <param name="Entropy">Mean per-token entropy.</param>
/// <param name="Samples">(prompt, response, proxy, gold) of the first prompts.</param>
public sealed record RlEvaluation(double ProxyReward, double? GoldReward, double Kl, double Entropy,
    IReadOnlyList<(string Prompt, string Response, double Proxy, double? Gold)> Samples);

/// <summary>What <see cref="RlTrainer.Train"/> did.</summary>
/// <param name="Steps">Steps taken in total (resumed ones included).</param>
/// <param name="Before">The held-out evaluation of the starting policy.</param>
/// <param name="After">The held-out evaluation of the trained policy.</param>
/// <param name="Elapsed">Wall time of this call.</param>
public sealed record RlRunResult(long Steps, RlEvaluation Before, RlEvaluation After, TimeSpan Elapsed);

/// <summary>
/// The RLHF loop (Ziegler et al. 2019; Ouyang et al. 2022; TRL's PPO and RLOO trainers), one step at a time:
/// <list type="number">
/// <item>rollout: K samples per prompt from the current policy (<see cref="TokenGenerator"/>), their log-probs under the
/// policy and under a frozen reference (the starting policy), the critic's values;</item>
/// <item>score: the reward models read the decoded text (<see cref="RlRewards"/>);</item>
/// <item>advantages: PPO and TRPO use the per-token KL penalty and GAE; REINFORCE a baseline; RLOO leave-one-out;</item>
/// <item>update through <see cref="TrainingStep"/> (PPO epochs over minibatches with an approx-KL early stop; the critic's
/// clipped value loss), or TRPO's natural-gradient step with its line search.</item>
/// </list>
/// Every step appends a metrics row with TRL's names to OUT/metrics.jsonl and writes OUT/checkpoint atomically, so a run
/// killed at any moment resumes from its last step with the same weights an uninterrupted run would have (all randomness
/// is derived from the seed and the step number).
/// </summary>
public sealed partial class RlTrainer
{
    /// <summary>Metric names (TRL's where TRL has one).</summary>
    public static readonly string[] MetricNames =
    [
        "objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward", "objective/scores",
        "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg", "val/clipfrac_avg", "val/ratio",
        "val/num_eos_tokens", "time/generate", "time/score", "time/train",
    ];

    readonly Policy _policy;
    readonly GptLanguageModel _reference;
    readonly Critic? _critic;
    readonly RlRewards _rewards;
    readonly RlOptions _options;
    readonly WorkerPool _pool;
    readonly Tape _tape;
    readonly Tape _inference;
    readonly TrainingStep _policyStep;
    readonly TrainingStep? _criticStep;
    readonly KlController _kl;
    readonly DataParallel _dp;
    double? _movingBaseline;
    long _updates, _criticUpdates;

    /// <summary>A trainer of <paramref name="policy"/> (trained in place; its starting weights become the frozen reference).</summary>
    /// <param name="policy">The policy to train.</param>
    /// <param name="rewards">The reward models and reward shaping.</param>
    /// <param name="critic">The value network for PPO, TRPO and REINFORCE's learned baseline (see <see cref="CriticFor"/>); ignored otherwise.</param>
    /// <param name="options">The run's settings (validated here).</param>
    /// <param name="pool">Threads.</param>
    /// <param name="communicator">
    /// The data-parallel job this process is a rank of (<c>mpirun -np N rewardkit rl ...</c>; default one process): every rank
    /// generates, scores and trains on its share of each rollout, gradients are summed with Allreduce, rank 0 alone writes
    /// files. TRPO runs in one process only.
    /// </param>
    public RlTrainer(Policy policy, RlRewards rewards, GptRewardModel? critic, RlOptions options, WorkerPool pool, ICommunicator? communicator = null)
    {
        _policy = policy ?? throw new ArgumentNullException(nameof(policy));
        _rewards = rewards ?? throw new ArgumentNullException(nameof(rewards));
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _pool = pool ?? throw new ArgumentNullException(nameof(pool));
        _dp = new DataParallel(communicator ?? SingleProcessCommunicator.Instance, options.Seed);
        if (_dp.Size > 1 && options.Algorithm == RlAlgorithm.Trpo)
            throw new ArgumentException($"algo trpo: TRPO's conjugate gradient and line search run in one process; run it without mpirun (this job has {_dp.Size} ranks), or use ppo, reinforce or rloo.", nameof(options));
        _dp.ShareParameters(policy.Model.Parameters);   // every rank starts from rank 0's weights
        _reference = policy.Model.Clone();
        _tape = new Tape(pool);
        _inference = new Tape(pool) { RecordsGradients = false };
        _policyStep = NewStep(policy.Model.Parameters);
        if (options.UsesCritic)
        {
            _critic = new Critic(critic ?? throw new ArgumentException($"{options.Algorithm} needs a critic (RlTrainer.CriticFor).", nameof(critic)));
            _criticStep = NewStep(_critic.Parameters);
            _dp.ShareParameters(_critic.Parameters);
        }
        _kl = new KlController(options.KlCoefficient, options.KlTarget, options.KlHorizon);
    }

    /// <summary>
    /// The critic for <paramref name="policy"/>: a copy of <paramref name="rewardModel"/> when it reads the policy's token ids
    /// (same vocabulary and at least its positions: TRL starts its value model from the reward model), otherwise the
    /// policy's own body with a zero value head.
    /// </summary>
    public static GptRewardModel CriticFor(Policy policy, GptRewardModel? rewardModel)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var config = policy.Model.Config;
        var source = rewardModel is not null && rewardModel.Config.VocabSize == config.VocabSize && rewardModel.Config.Positions >= config.Positions
            && rewardModel.Config.EmbeddingSize == config.EmbeddingSize && rewardModel.Config.Layers == config.Layers ? rewardModel : null;
        var critic = new GptRewardModel(source?.Config ?? config);
        if (source is not null) source.Parameters.Values.CopyTo(critic.Parameters.Values);
        else
            foreach (var e in policy.Model.Parameters.Entries)
                if (critic.Parameters.TryGet(e.Name) is { } target) e.Tensor.Data.CopyTo(target.Data);
        return critic;
    }

    /// <summary>
    /// Opens the starting policy: a policy folder (<see cref="Policy.Load"/>), or a reward-model folder whose backbone (after
    /// its SFT warm start, trained as a causal LM on chosen responses) becomes the policy, with the folder's tokenizer and
    /// template; <paramref name="fromRewardModel"/> says which.
    /// </summary>
    public static Policy OpenPolicy(string directory, out bool fromRewardModel)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        fromRewardModel = Directory.Exists(directory) && File.Exists(Path.Combine(directory, "config.json"))
            && GptConfig.ReadArchitecture(directory) == GptConfig.SequenceClassification;
        if (!fromRewardModel) return Policy.Load(directory);
        var (model, _) = PolicyFolder.InitializeFrom(directory);
        var metadata = RewardModelMetadata.Load(directory);
        var tokenizer = ByteLevelBpeTokenizer.FromDirectory(directory);
        var template = PromptTemplate.FromName(string.IsNullOrEmpty(metadata.Template) ? "plain" : metadata.Template);
        return new Policy(model, tokenizer, template, new RewardModelMetadata { Name = metadata.Name + "-policy", Template = template.Name });
    }

    /// <summary>
    /// Splits <paramref name="prompts"/> into training and held-out prompts: a seeded shuffle, the last 5 % (at least one
    /// when there are two or more) held out.
    /// </summary>
    public static (List<string> Train, List<string> HeldOut) HoldOut(IReadOnlyList<string> prompts, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var order = Enumerable.Range(0, prompts.Count).ToArray();
        new Rng(seed ^ 0x5EED).Shuffle<int>(order);
        int held = prompts.Count < 2 ? 0 : Math.Max(1, (int)Math.Round(prompts.Count * 0.05));
        return ([.. order[..^held].Select(i => prompts[i])], [.. order[^held..].Select(i => prompts[i])]);
    }

    /// <summary>The metrics rows of the run (also in OUT/metrics.jsonl): those a resumed run kept, then those it wrote.</summary>
    public List<IReadOnlyDictionary<string, double>> Metrics { get; } = [];

    /// <summary>The current KL coefficient β.</summary>
    public double KlCoefficient => _kl.Value;

    TrainingStep NewStep(ParameterSet parameters) =>
        new(parameters, new AdamW(parameters, _options.LearningRate, weightDecay: 0, pool: _pool), _tape,
            LearningRateSchedule.Constant(_options.LearningRate), _options.MaxGradNorm, _pool)
        {
            GradientReducer = _dp.Reducer,
            OnDiverged = d => new TrainingDivergedException(
                $"rl: the {d.Quantity} became {d.Value} during an update; the run stopped before applying it. Resume from the last checkpoint (--resume) with a lower learning_rate or a larger kl_coef.", d.Step, null),
        };

    /// <summary>
    /// Runs <see cref="RlOptions.MaxSteps"/> steps on <paramref name="prompts"/> (resuming from OUT/checkpoint when
    /// <paramref name="resume"/> and one exists), evaluating on <paramref name="evalPrompts"/> before and after; writes
    /// OUT/metrics.jsonl, OUT/checkpoint and OUT/policy.
    /// </summary>
    public RlRunResult Train(IReadOnlyList<string> prompts, IReadOnlyList<string> evalPrompts, string outputDirectory, bool resume = false,
        IProgress<RlProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(evalPrompts);
        if (prompts.Count == 0) throw new ArgumentException("rl: no training prompts.", nameof(prompts));
        var clock = Stopwatch.StartNew();
        var checkpointDir = Path.Combine(outputDirectory, RlCheckpoint.FolderName);
        if (_dp.IsRoot)   // rank 0 alone writes files
        {
            Directory.CreateDirectory(outputDirectory);
            TrainingCheckpoint.Tidy(outputDirectory, checkpointDir, "policy");   // what a killed run left half written
        }
        var before = Evaluate(evalPrompts, _reference, cancellationToken);
        long start = resume ? RestoreIfPresent(checkpointDir) : 0;
        bool finalLogged = false;   // a resumed run that had finished keeps its final evaluation row and writes no second one
        using var metrics = _dp.IsRoot ? MetricsLog.Open(Path.Combine(outputDirectory, "metrics.jsonl"), resume ? row =>
        {
            if (!row.TryGetValue("step", out var s) || s > start) return false;
            Metrics.Add(row);
            finalLogged |= s == _options.MaxSteps && !row.ContainsKey("objective/kl");
            return true;
        } : null, Metrics.Add) : null;
        for (long step = start; step < _options.MaxSteps; step++)
        {
            if (_dp.AgreeToStop(cancellationToken.IsCancellationRequested)) throw new OperationCanceledException(cancellationToken);
            var row = Step(prompts, step, cancellationToken);
            if (_options.EvalEvery > 0 && (step + 1) % _options.EvalEvery == 0 && step + 1 < _options.MaxSteps)
                AddEvaluation(row, Evaluate(evalPrompts, _policy.Model, cancellationToken));
            metrics?.Write(row);   // before the checkpoint: a resume drops rows past the checkpoint's step
            _dp.RequireSameParameters(_policy.Model.Parameters, step + 1);
            if (_dp.IsRoot) RlCheckpoint.Save(checkpointDir, Snapshot(step + 1));
            progress?.Report(new RlProgress(step + 1, _options.MaxSteps, row));
        }
        var after = Evaluate(evalPrompts, _policy.Model, cancellationToken);
        if (!finalLogged && metrics is not null)
        {
            var final = new Dictionary<string, double> { ["step"] = _options.MaxSteps, ["world_size"] = _dp.Size };
            AddEvaluation(final, after);
            metrics.Write(final);
        }
        if (_dp.IsRoot) _policy.Save(Path.Combine(outputDirectory, "policy"));
        return new RlRunResult(_options.MaxSteps, before, after, clock.Elapsed);
    }

    static void AddEvaluation(Dictionary<string, double> row, RlEvaluation e)
    {
        row["eval/proxy_reward"] = e.ProxyReward;
        row["eval/kl"] = e.Kl;
        row["eval/entropy"] = e.Entropy;
        if (e.GoldReward is { } g) row["eval/gold_reward"] = g;
    }

    /// <summary>One step: rollout, score, advantages, update. Returns its metrics row.</summary>
    Dictionary<string, double> Step(IReadOnlyList<string> prompts, long step, CancellationToken ct)
    {
        var times = Stopwatch.StartNew();
        var texts = PromptsOfStep(prompts, step);
        var generated = Generate(texts, step, ct);
        double generate = times.Elapsed.TotalSeconds;
        var rollout = Score(texts, generated, ct);
        double score = times.Elapsed.TotalSeconds - generate;
        var row = new Dictionary<string, double> { ["step"] = step + 1, ["world_size"] = _dp.Size };
        var (advantages, returns) = Advantages(rollout, row);
        var update = _options.Algorithm == RlAlgorithm.Trpo
            ? TrpoUpdate(rollout, advantages, step)
            : PolicyUpdate(rollout, advantages, step);
        if (_critic is not null && returns is not null)
        {
            var (valueLoss, valueClip) = CriticUpdate(rollout, returns, step);
            update = update with { Value = valueLoss, ValueClipFraction = valueClip };
        }
        double train = times.Elapsed.TotalSeconds - generate - score;
        update.AddTo(row);
        row["objective/kl_coef"] = _kl.Value;
        row["time/generate"] = generate;
        row["time/score"] = score;
        row["time/train"] = train;
        _kl.Update(row["objective/kl"], rollout.Rows);
        return row;
    }

    /// <summary>The prompts of step <paramref name="step"/>: the next <see cref="RlOptions.PromptsPerStep"/> of a seeded shuffle per pass.</summary>
    string[] PromptsOfStep(IReadOnlyList<string> prompts, long step)
    {
        var chosen = new string[_options.PromptsPerStep];
        for (int i = 0; i < chosen.Length; i++)
        {
            long position = step * chosen.Length + i;
            long pass = position / prompts.Count;
            var order = Order(prompts.Count, _options.Seed * 7919 + (ulong)pass);
            chosen[i] = prompts[order[(int)(position % prompts.Count)]];
        }
        return chosen;
    }

    readonly Dictionary<ulong, int[]> _orders = [];

    int[] Order(int count, ulong seed)
    {
        if (_orders.TryGetValue(seed, out var cached)) return cached;
        var order = Enumerable.Range(0, count).ToArray();
        new Rng(seed).Shuffle(order);
        if (_orders.Count > 4) _orders.Clear();
        return _orders[seed] = order;
    }

    int PromptBudget => _policy.Model.Config.Positions - _options.MaxNewTokens;

    /// <summary>The rollout's samples: this rank generates its share of the rows (each row has its own seed), then every rank gets them all.</summary>
    GenerationResult Generate(string[] texts, long step, CancellationToken ct)
    {
        int k = _options.SamplesPerPrompt;
        var ids = texts.Select(t => _policy.EncodePrompt(t, PromptBudget, out _)).ToArray();
        var rows = Enumerable.Range(0, texts.Length * k).ToArray();
        var sampling = new SamplingOptions { MaxNewTokens = _options.MaxNewTokens, Temperature = _options.Temperature, Seed = _options.Seed };
        ulong stepSeed = unchecked(_options.Seed * 1_000_003UL + (ulong)step);
        var mine = rows[_dp.Communicator.Shard(rows.Length)];
        var part = new TokenGenerator(_policy.Model, _pool).Generate([.. mine.Select(r => ids[r / k])], sampling,
            [.. mine.Select(r => SamplingOptions.RowSeed(stepSeed, r / k, r % k))], ct);
        return _dp.Size == 1 ? part : GatherGeneration([.. rows.Select(r => ids[r / k])], mine.FirstOrDefault(), part);
    }

    /// <summary>
    /// Scores the rollout: this rank computes the log-probs (policy and reference), entropies, values and reward-model
    /// scores of its share of the rows, and one Allreduce gives every rank all of them; the reward shaping (whose running
    /// statistics every rank keeps alike) then runs on the whole batch.
    /// </summary>
    Rollout Score(string[] texts, GenerationResult generated, CancellationToken ct)
    {
        int k = _options.SamplesPerPrompt;
        var batch = generated.ToTokenBatch();
        var shared = ScoreShard(batch, generated.Tokens.Select(t => t.Length).ToArray(),
            rows => _rewards.Proxy([.. rows.Select(r => new ScoringItem(texts[r / k], _policy.DecodeResponse(generated.Tokens[r])))], ct));
        var (old, entropy, reference, proxy, lengths, width) = (shared.Old, shared.Entropy, shared.Reference, shared.Proxy, shared.Lengths, shared.Width);
        var eos = generated.Finish.Select(f => f == FinishReason.Eos).ToArray();
        var scores = _rewards.Shape(proxy, lengths, eos);
        foreach (var s in scores)
            if (!float.IsFinite(s)) throw new TrainingDivergedException($"rl: a reward model returned {s}; check the reward model folder (score it with `rewardkit score`).", 0, null);
        var rollout = new Rollout
        {
            Batch = batch, Lengths = lengths, Width = width, OldLogProbs = old, ReferenceLogProbs = reference, Entropy = entropy,
            Proxy = proxy, Scores = scores, EndedWithEos = eos, Values = shared.Values,
        };
        return rollout;
    }

    (float[] LogProbs, float[]? Entropy, int[] Lengths, int Width) LogProbs(GptLanguageModel model, TokenBatch batch, bool entropy)
    {
        var lp = model.ResponseLogProbs(_inference, batch, _options.Temperature, entropy);
        var result = (lp.LogProbs.ToArray(), lp.Entropy?.ToArray(), lp.Lengths, lp.LogProbs.Dim(1));
        _inference.Reset();
        return result;
    }

    float[] Values(TokenBatch batch)
    {
        var values = _critic!.Values(_inference, batch).ToArray();
        _inference.Reset();
        return values;
    }
}
