using System.Runtime.Serialization;
using RewardKit.Training;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace RewardKit.Rl;

/// <summary>The policy-optimisation algorithm of an <see cref="RlTrainer"/> run.</summary>
public enum RlAlgorithm
{
    /// <summary>PPO (Schulman et al. 2017) with a per-token KL penalty, a critic and GAE, as TRL's PPO trainer.</summary>
    Ppo,

    /// <summary>REINFORCE (Williams 1992) with a baseline (<see cref="RlOptions.Baseline"/>).</summary>
    Reinforce,

    /// <summary>REINFORCE leave-one-out (Ahmadian et al. 2024), as TRL's RLOO trainer.</summary>
    Rloo,

    /// <summary>TRPO (Schulman et al. 2015): a natural-gradient step within a KL trust region; the critic trained separately.</summary>
    Trpo,
}

/// <summary>The baseline REINFORCE subtracts from each sequence's reward.</summary>
public enum ReinforceBaseline
{
    /// <summary>The mean reward of the batch.</summary>
    BatchMean,

    /// <summary>An exponential moving average of past batch means (<see cref="RlOptions.BaselineDecay"/>).</summary>
    MovingAverage,

    /// <summary>A learned value: the critic's estimate at each token, trained toward the sequence reward.</summary>
    Value,
}

/// <summary>How the reward models' combined score is rescaled before it becomes the RL reward.</summary>
public enum RewardScaling
{
    /// <summary>As scored.</summary>
    None,

    /// <summary>(s − running mean) / running std over every score seen so far.</summary>
    [EnumMember(Value = "running_zscore")] RunningZScore,

    /// <summary>(s − running min) / (running max − running min), in [0, 1].</summary>
    MinMax,

    /// <summary>sign(s)·log(1 + |s|).</summary>
    Log,
}

/// <summary>
/// Everything an <see cref="RlTrainer"/> run needs besides its models and prompts, grouped as TRL's PPO/RLOO configs and
/// with their defaults where TRL has one. The snake_case names in the docs are the keys of <c>rl.yaml</c>.
/// </summary>
public sealed record RlOptions
{
    // --- algorithm and rollouts ---

    /// <summary><c>algo</c>: ppo, reinforce, rloo or trpo. Default ppo.</summary>
    [YamlMember(Alias = "algo")]
    public RlAlgorithm Algorithm { get; init; } = RlAlgorithm.Ppo;

    /// <summary><c>max_steps</c>: rollout + update rounds. Default 50.</summary>
    public int MaxSteps { get; init; } = 50;

    /// <summary><c>prompts_per_step</c>: prompts per rollout. Default 8.</summary>
    public int PromptsPerStep { get; init; } = 8;

    /// <summary><c>samples_per_prompt</c> (TRL <c>rloo_k</c>): completions per prompt, at least 2 for RLOO. Default 4.</summary>
    [YamlMember(Alias = "samples_per_prompt")]
    public int SamplesPerPrompt { get; init; } = 4;

    /// <summary><c>max_new_tokens</c> (TRL <c>response_length</c>). Default 32.</summary>
    public int MaxNewTokens { get; init; } = 32;

    /// <summary><c>temperature</c> of rollouts (and of the log-probs, as TRL). Default 1.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary><c>seed</c>: rollouts, prompt order and minibatches. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    // --- reward ---

    /// <summary><c>reward_weights</c>: one weight per reward model (default all 1 / count).</summary>
    public IReadOnlyList<double>? RewardWeights { get; init; }

    /// <summary><c>reward_scaling</c>: none, running_zscore, min_max or log. Default none.</summary>
    public RewardScaling RewardScaling { get; init; } = RewardScaling.None;

    /// <summary><c>reward_clip</c>: clamp the scaled reward to ±this (null = no clipping). Default null.</summary>
    public double? RewardClip { get; init; }

    /// <summary><c>length_penalty</c>: subtracted per response token from the reward. Default 0.</summary>
    public double LengthPenalty { get; init; }

    /// <summary><c>missing_eos_penalty</c> (TRL): subtracted from the reward of a response that did not end with EOS. Default null (none).</summary>
    public double? MissingEosPenalty { get; init; }

    // --- KL penalty ---

    /// <summary><c>kl_coef</c> β (TRL PPO 0.05). Default 0.05.</summary>
    [YamlMember(Alias = "kl_coef")]
    public double KlCoefficient { get; init; } = 0.05;

    /// <summary><c>kl_estimator</c>: k1 or k3. Default k1.</summary>
    public KlEstimator KlEstimator { get; init; } = KlEstimator.K1;

    /// <summary><c>kl_target</c>: adapt β toward this sequence KL (Ziegler et al.); null keeps β fixed. Default null.</summary>
    public double? KlTarget { get; init; }

    /// <summary><c>kl_horizon</c> of the adaptive controller. Default 10000.</summary>
    public double KlHorizon { get; init; } = 10_000;

    /// <summary><c>max_kl</c>: a rollout whose mean sequence KL exceeds this stops the run (exploding KL). Default 100 nats.</summary>
    public double MaxKl { get; init; } = 100;

    // --- advantages ---

    /// <summary><c>gamma</c> γ (TRL 1). Default 1.</summary>
    public double Gamma { get; init; } = 1;

    /// <summary><c>lam</c> GAE λ (TRL 0.95). Default 0.95.</summary>
    [YamlMember(Alias = "lam")]
    public double Lambda { get; init; } = 0.95;

    /// <summary><c>whiten_advantages</c>. Default true.</summary>
    public bool WhitenAdvantages { get; init; } = true;

    /// <summary><c>baseline</c> of REINFORCE: batch_mean, moving_average or value. Default batch_mean.</summary>
    public ReinforceBaseline Baseline { get; init; } = ReinforceBaseline.BatchMean;

    /// <summary><c>baseline_decay</c> of the moving-average baseline. Default 0.9.</summary>
    public double BaselineDecay { get; init; } = 0.9;

    // --- updates ---

    /// <summary><c>learning_rate</c> of the policy (and of the critic). Default 1e-5 (TRL 3e-6 for 1B models).</summary>
    public double LearningRate { get; init; } = 1e-5;

    /// <summary><c>epochs</c> over each rollout (TRL <c>num_ppo_epochs</c> 4; REINFORCE/RLOO use 1 unless set). Default null = 4 for PPO, 1 otherwise.</summary>
    public int? Epochs { get; init; }

    /// <summary><c>minibatches</c> per epoch (TRL <c>num_mini_batches</c>). Default 1.</summary>
    [YamlMember(Alias = "minibatches")]
    public int MiniBatches { get; init; } = 1;

    /// <summary><c>max_grad_norm</c>. Default 1.</summary>
    public double MaxGradNorm { get; init; } = 1;

    /// <summary><c>target_approx_kl</c>: stop a rollout's epochs once a minibatch's approx KL exceeds it (null = never). Default null.</summary>
    public double? TargetApproxKl { get; init; }

    /// <summary>Clip ranges, value and entropy coefficients (TRL's <c>cliprange</c>, <c>cliprange_value</c>, <c>vf_coef</c>).</summary>
    [YamlMember(Alias = "loss")]
    public PpoLossOptions Loss { get; init; } = new();

    /// <summary>
    /// <c>trpo_max_kl</c> δ, the trust region: the mean per-token KL(π_old ‖ π) of one step. Default 0.002, below Schulman
    /// et al.'s 0.01 (continuous control; OpenAI baselines use 0.001 on Atari): a language-model policy after SFT is nearly
    /// deterministic (about 0.2 nats of entropy per token on the built-in world), and with 0.01 each step moved it by as much
    /// as the 32-sample rollout could not justify, so gold reward drifted while the proxy rose (bench/results/2026-12-07-rl-world.md).
    /// </summary>
    public double TrpoMaxKl { get; init; } = 0.002;

    /// <summary><c>trpo_damping</c> of the Fisher-vector products (0.1). Default 0.1.</summary>
    public double TrpoDamping { get; init; } = 0.1;

    /// <summary><c>trpo_cg_iterations</c> (10). Default 10.</summary>
    public int TrpoCgIterations { get; init; } = 10;

    /// <summary>
    /// <c>trpo_fisher_every</c>: the Fisher-vector products use every n-th rollout row (OpenAI baselines' <c>trpo_mpi</c>
    /// takes every 5th sample, after Schulman's thesis pp. 40-42); the gradient and the line search's exact KL still use
    /// every row. Default 1 (all rows).
    /// </summary>
    public int TrpoFisherEvery { get; init; } = 1;

    // --- evaluation and output ---

    /// <summary><c>eval_every</c>: steps between held-out evaluations (0 = only before and after). Default 0.</summary>
    public int EvalEvery { get; init; }

    /// <summary><c>eval_seed</c>: the fixed sampling seed of held-out evaluations (the same before and after). Default 12345.</summary>
    public ulong EvalSeed { get; init; } = 12345;

    /// <summary>Worker threads (0 = all cores).</summary>
    public int Threads { get; init; }

    /// <summary>The epochs of each rollout this algorithm takes.</summary>
    [YamlIgnore]
    public int EpochsFor => Epochs ?? (Algorithm == RlAlgorithm.Ppo ? 4 : 1);

    /// <summary>True when the algorithm trains a critic (PPO, TRPO, REINFORCE with a learned baseline).</summary>
    [YamlIgnore]
    public bool UsesCritic => Algorithm is RlAlgorithm.Ppo or RlAlgorithm.Trpo || (Algorithm == RlAlgorithm.Reinforce && Baseline == ReinforceBaseline.Value);

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and the fix.</summary>
    public RlOptions Validate()
    {
        Require(MaxSteps >= 0, "max_steps", "must be ≥ 0.");
        Require(PromptsPerStep >= 1, "prompts_per_step", "must be at least 1.");
        Require(SamplesPerPrompt >= 1, "samples_per_prompt", "must be at least 1.");
        Require(Algorithm != RlAlgorithm.Rloo || SamplesPerPrompt >= 2, "samples_per_prompt", "RLOO needs at least 2 samples per prompt.");
        Require(MaxNewTokens >= 1, "max_new_tokens", "must be at least 1.");
        Require(Temperature > 0 && float.IsFinite(Temperature), "temperature", "must be > 0.");
        Require(RewardClip is null or > 0, "reward_clip", "must be > 0 (or absent).");
        Require(double.IsFinite(LengthPenalty), "length_penalty", "must be a finite number.");
        Require(KlCoefficient >= 0 && double.IsFinite(KlCoefficient), "kl_coef", "must be ≥ 0.");
        Require(KlTarget is null or > 0, "kl_target", "must be > 0 (or absent for a fixed coefficient).");
        Require(KlHorizon > 0, "kl_horizon", "must be > 0.");
        Require(MaxKl > 0, "max_kl", "must be > 0.");
        Require(Gamma is >= 0 and <= 1, "gamma", "must be in [0, 1].");
        Require(Lambda is >= 0 and <= 1, "lam", "must be in [0, 1].");
        Require(BaselineDecay is >= 0 and < 1, "baseline_decay", "must be in [0, 1).");
        Require(LearningRate is > 0 and < 1, "learning_rate", "must be in (0, 1).");
        Require(Epochs is null or >= 1, "epochs", "must be at least 1.");
        Require(MiniBatches >= 1 && MiniBatches <= PromptsPerStep * SamplesPerPrompt, "minibatches", $"must be in [1, prompts_per_step × samples_per_prompt = {PromptsPerStep * SamplesPerPrompt}].");
        Require(MaxGradNorm >= 0, "max_grad_norm", "must be ≥ 0 (0 = no clipping).");
        Require(TargetApproxKl is null or > 0, "target_approx_kl", "must be > 0 (or absent).");
        Require(TrpoMaxKl > 0, "trpo_max_kl", "must be > 0.");
        Require(TrpoDamping >= 0, "trpo_damping", "must be ≥ 0.");
        Require(TrpoCgIterations >= 1, "trpo_cg_iterations", "must be at least 1.");
        Require(TrpoFisherEvery >= 1 && TrpoFisherEvery <= PromptsPerStep * SamplesPerPrompt, "trpo_fisher_every",
            $"must be in [1, prompts_per_step × samples_per_prompt = {PromptsPerStep * SamplesPerPrompt}].");
        Require(EvalEvery >= 0, "eval_every", "must be ≥ 0.");
        Require(Threads >= 0, "threads", "must be ≥ 0 (0 = all cores).");
        (Loss ?? throw new ArgumentException("loss options are missing.", nameof(Loss))).Validate();
        return this;
    }

    /// <summary>
    /// Reads <c>rl.yaml</c>: snake_case keys as in the property docs (<c>kl_coef: 0.1</c>, <c>lam: 0.95</c>,
    /// <c>loss: {clip_range: 0.2}</c>); enum values in snake_case as the docs write them (<c>baseline: moving_average</c>,
    /// <c>kl_estimator: k3</c>, <c>reward_scaling: running_zscore</c>), in any case and with '-' or '_' or none; a value that
    /// names none is an error naming the file, the line and the allowed values.
    /// </summary>
    public static RlOptions LoadYaml(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: the RL config file does not exist.", path);
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance)
            .WithTypeConverter(new EnumYamlConverter()).Build();
        try
        {
            return deserializer.Deserialize<RlOptions>(File.ReadAllText(path)) ?? new RlOptions();
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidDataException($"{path}:{e.Start.Line}: {e.InnerException?.Message ?? e.Message} (keys are snake_case, e.g. kl_coef: 0.05).", e);
        }
    }

    static void Require(bool condition, string field, string fix)
    {
        if (!condition) throw new ArgumentException($"{field}: {fix}", field);
    }
}
