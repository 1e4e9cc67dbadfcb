namespace RewardKit.Data.World;

/// <summary>A simulated annotator: labels follow Bradley-Terry at temperature T·<see cref="TemperatureScale"/>,
/// and with probability <see cref="FlipRate"/> the label is a coin flip.</summary>
/// <param name="Name">Written to each pair's <c>annotator</c> field.</param>
/// <param name="TemperatureScale">Multiplies the world temperature (1 = typical, larger = noisier).</param>
/// <param name="FlipRate">Chance of a random label, in [0, 1).</param>
public sealed record AnnotatorProfile(string Name, double TemperatureScale, double FlipRate);

/// <summary>Options of <see cref="PreferenceWorld"/>. Defaults make the documented built-in data set.</summary>
public sealed record WorldOptions
{
    /// <summary>Seed of every random choice; the same seed gives byte-identical files. Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Training pairs. Default 20,000.</summary>
    public int TrainPairs { get; init; } = 20_000;

    /// <summary>Validation pairs. Default 2,000.</summary>
    public int ValidationPairs { get; init; } = 2_000;

    /// <summary>Test pairs. Default 2,000.</summary>
    public int TestPairs { get; init; } = 2_000;

    /// <summary>Pairs drawn from each prompt's candidates. Default 2.</summary>
    public int PairsPerPrompt { get; init; } = 2;

    /// <summary>Bradley-Terry temperature T: P(a ≻ b) = σ((r(a) − r(b)) / T). Default 0.7 (Bayes-optimal test accuracy ≈ 0.84).</summary>
    public double Temperature { get; init; } = 0.7;

    /// <summary>Ranked groups per split, as a fraction of that split's pairs. Default 0.1.</summary>
    public double RankingsFraction { get; init; } = 0.1;

    /// <summary>Prompts with ratings per split, as a fraction of that split's pairs. Default 0.1.</summary>
    public double RatingsFraction { get; init; } = 0.1;

    /// <summary>The simulated annotators, drawn uniformly per pair.</summary>
    public IReadOnlyList<AnnotatorProfile> Annotators { get; init; } =
    [
        new("annotator-careful", 0.7, 0.0),
        new("annotator-typical", 1.0, 0.02),
        new("annotator-hasty", 1.3, 0.05),
        new("annotator-noisy", 1.6, 0.12),
    ];

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option and the fix.</summary>
    public void Validate()
    {
        if (TrainPairs < 0 || ValidationPairs < 0 || TestPairs < 0)
            throw new ArgumentException("WorldOptions pair counts must be >= 0 (--pairs sets the training pairs).");
        if (TrainPairs + ValidationPairs + TestPairs == 0) throw new ArgumentException("WorldOptions: ask for at least one pair (--pairs N).");
        if (PairsPerPrompt is < 1 or > 10) throw new ArgumentException($"WorldOptions.PairsPerPrompt is {PairsPerPrompt}; use 1..10.");
        if (!(Temperature > 0) || !double.IsFinite(Temperature)) throw new ArgumentException($"WorldOptions.Temperature is {Temperature}; use a positive number (0.7 is the default).");
        if (RankingsFraction is < 0 or > 10 || RatingsFraction is < 0 or > 10) throw new ArgumentException("WorldOptions.RankingsFraction/RatingsFraction must be in [0, 10].");
        if (Annotators.Count == 0) throw new ArgumentException("WorldOptions.Annotators must not be empty.");
        foreach (var a in Annotators)
            if (!(a.TemperatureScale > 0) || a.FlipRate is < 0 or >= 1)
                throw new ArgumentException($"annotator '{a.Name}': TemperatureScale must be > 0 and FlipRate in [0, 1).");
    }
}
