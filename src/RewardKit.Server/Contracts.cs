namespace RewardKit.Server;

// Wire types of /v1 (JSON names are snake_case).

/// <summary>One (prompt, response) pair.</summary>
public sealed record ScoreItemDto(string? Prompt, string? Response);

/// <summary>
/// POST /v1/score: <c>{"items": [{"prompt", "response"}, ...], "model": optional name, "objective_weights": optional}</c>;
/// <c>objective_weights</c> (one per objective, multi-objective models only) combine the objectives for this request
/// instead of the weights in rewardkit.json.
/// </summary>
public sealed record ScoreRequest(List<ScoreItemDto?>? Items, string? Model = null, List<double>? ObjectiveWeights = null);

/// <summary>
/// Rewards in input order: <c>rewards</c> raw, <c>normalized</c> the z-score with the training mean/std, and
/// <c>calibrated</c> = σ((r − mean) / T), the calibrated probability that the response beats a reference response of
/// training-mean reward (T = the model's temperature, 1 when uncalibrated). A multi-objective model adds <c>objectives</c>
/// (each objective's raw rewards, by name; <c>rewards</c> is their weighted sum) and <c>objective_weights</c> (the weights
/// used); an ensemble adds <c>std</c>, the standard deviation of its members' rewards (<c>rewards</c> is their mean).
/// </summary>
public sealed record ScoreResponse(string Model, string Version, double[] Rewards, double[] Normalized, double[] Calibrated, double Temperature)
{
    /// <summary>Each objective's raw rewards in input order, by objective name (multi-objective models only).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, double[]>? Objectives { get; init; }

    /// <summary>The weights that combined the objectives into <c>rewards</c> (multi-objective models only).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<double>? ObjectiveWeights { get; init; }

    /// <summary>The standard deviation of the ensemble members' rewards in input order (ensembles only).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double[]? Std { get; init; }
}

/// <summary>POST /v1/rank and /v1/best-of-n: a prompt and its candidate responses.</summary>
public sealed record RankRequest(string? Prompt, List<string?>? Responses, string? Model = null);

/// <summary>One ranked response.</summary>
public sealed record RankedDto(int Index, double Reward, double Normalized, double ProbabilityBest);

/// <summary>Responses from best to worst with the Plackett-Luce probability each is best (softmax of r / T).</summary>
public sealed record RankResponse(string Model, string Version, List<RankedDto> Ranking, double Temperature);

/// <summary>The best of n: its index, text and reward, and every reward in input order.</summary>
public sealed record BestOfNResponse(string Model, string Version, int BestIndex, string BestResponse, double Reward, double ProbabilityBest, double[] Rewards);

/// <summary>POST /v1/compare: two responses to one prompt.</summary>
public sealed record CompareRequest(string? Prompt, string? A, string? B, string? Model = null);

/// <summary>Calibrated P(a ≻ b) = σ((r_a − r_b) / T).</summary>
public sealed record CompareResponse(string Model, string Version, double RewardA, double RewardB, double ProbabilityAPreferred, double Temperature);

/// <summary>A served model.</summary>
public sealed record ModelDto(string Name, string Version, string? RegistryVersion, string Template, int MaxLength, double RewardMean,
    double RewardStd, double? Temperature, string Source, DateTimeOffset LoadedUtc, double CacheHitRate, long CacheEntries);

/// <summary>GET /v1/models.</summary>
public sealed record ModelsResponse(List<ModelDto> Models, string? LastError);

/// <summary>GET /healthz: the process is up.</summary>
/// <param name="Status">"ok".</param>
public sealed record HealthResponse(string Status);

/// <summary>GET /readyz: a model is loaded and scoring.</summary>
/// <param name="Status">"ready".</param>
/// <param name="Model">The served model's name.</param>
/// <param name="Version">Its version.</param>
public sealed record ReadyResponse(string Status, string Model, string Version);
