using RewardKit.Rl;

namespace RewardKit.Quickstart;

/// <summary>
/// Options of <see cref="RlLab.Run"/> (<c>rewardkit quickstart --rl</c>). The defaults are sized to finish in about ten
/// minutes on two cores: a reward model on 5,000 world pairs, a tiny SFT policy, 120 PPO steps, best-of-64 on 64
/// held-out prompts.
/// </summary>
public sealed record RlLabOptions
{
    /// <summary>The reward model's quickstart (world size, steps, seed, threads); the lab's seed and threads are these.</summary>
    public QuickstartOptions RewardModel { get; init; } = new() { Pairs = 5_000, MaxSteps = 1_000 };

    /// <summary>An existing reward-model folder to use instead of training one (its world must be in OUT/data). Default null.</summary>
    public string? RewardModelDirectory { get; init; }

    /// <summary>An existing policy folder to start from instead of training the SFT policy. Default null.</summary>
    public string? SftPolicyDirectory { get; init; }

    /// <summary>SFT steps of 16 chosen responses (with end-of-text) for the tiny policy. Default 800.</summary>
    public int SftSteps { get; init; } = 800;

    /// <summary>
    /// The PPO run (<see cref="RlOptions"/>; <see cref="RlOptions.Seed"/> and <see cref="RlOptions.Threads"/> are replaced by
    /// the reward model's). Default: 120 steps of 8 prompts × 4 samples of at most 32 tokens at temperature 0.7, learning rate 3e-5,
    /// 2 epochs of 2 minibatches, β = 0.05.
    /// </summary>
    public RlOptions Ppo { get; init; } = new()
    {
        MaxSteps = 120, PromptsPerStep = 8, SamplesPerPrompt = 4, MaxNewTokens = 32, Temperature = 0.7f, LearningRate = 3e-5,
        Epochs = 2, MiniBatches = 2, KlCoefficient = 0.05,
    };

    /// <summary>PPO steps between held-out evaluations (the PPO points of the curves). Default 10.</summary>
    public int EvalEvery { get; init; } = 10;

    /// <summary>Samples per held-out prompt in each PPO evaluation (each with its own seed): more samples, less noise. Default 2.</summary>
    public int EvalSamplesPerPrompt { get; init; } = 2;

    /// <summary>Held-out prompts (the first distinct prompts of the test split) for every evaluation. Default 64.</summary>
    public int HeldOutPrompts { get; init; } = 64;

    /// <summary>The largest best-of-n (samples per held-out prompt); the curve has every power of two up to it. Default 64.</summary>
    public int MaxBestOfN { get; init; } = 64;

    /// <summary>
    /// Early stopping on the gold/proxy gap: stop PPO at the first evaluation whose gold reward is more than this below the
    /// best so far while its proxy reward is above that evaluation's, and keep the policy of the best one. Uses the world's
    /// gold judge on the held-out prompts (an oracle a real run does not have). Default null (off).
    /// </summary>
    public double? StopOnGoldGap { get; init; }

    /// <summary>
    /// How far gold must fall below its peak, with proxy still rising, to mark a curve over-optimised. Default 0.2: about the
    /// standard error of a PPO evaluation's mean gold reward (gold's standard deviation is ~2 on the SFT policy's answers;
    /// 128 samples), so noise alone rarely marks a curve.
    /// </summary>
    public double Tolerance { get; init; } = 0.2;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad flag and the fix.</summary>
    public RlLabOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(RewardModel);
        RewardModel.Validate();
        ArgumentNullException.ThrowIfNull(Ppo);
        Ppo.Validate();
        if (SftSteps < 1) throw new ArgumentException($"--sft-steps {SftSteps}: use a positive count.", "--sft-steps");
        if (EvalEvery < 1) throw new ArgumentException($"--eval-every {EvalEvery}: use a positive count.", "--eval-every");
        if (EvalSamplesPerPrompt < 1) throw new ArgumentException($"--eval-samples {EvalSamplesPerPrompt}: use a positive count.", "--eval-samples");
        if (HeldOutPrompts < 1) throw new ArgumentException($"--held-out-prompts {HeldOutPrompts}: use a positive count.", "--held-out-prompts");
        if (MaxBestOfN < 1) throw new ArgumentException($"--max-best-of-n {MaxBestOfN}: use a positive count.", "--max-best-of-n");
        if (StopOnGoldGap is < 0 || StopOnGoldGap is { } g && !double.IsFinite(g))
            throw new ArgumentException($"--stop-on-gold-gap {StopOnGoldGap}: use a non-negative reward difference, e.g. 0.05.", "--stop-on-gold-gap");
        if (Tolerance < 0) throw new ArgumentException($"tolerance {Tolerance}: use a non-negative reward difference.", nameof(Tolerance));
        return this;
    }

    /// <summary>The n of the best-of-n curve: 1, 2, 4, ... up to <see cref="MaxBestOfN"/> (which is included).</summary>
    public IReadOnlyList<int> BestOfNSizes()
    {
        var sizes = new List<int>();
        for (int n = 1; n < MaxBestOfN; n *= 2) sizes.Add(n);
        sizes.Add(MaxBestOfN);
        return sizes;
    }
}
