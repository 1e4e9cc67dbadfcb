using System.Globalization;
using System.Text.Json;
using RewardKit.IO;

namespace RewardKit.Models.MultiObjective;

/// <summary>
/// The objectives of a multi-objective reward model (e.g. helpfulness, harmlessness, honesty: one head each) and the weights
/// of its combined reward Σ_k w_k · r_k. Stored in rewardkit.json as <c>objectives</c> and <c>objective_weights</c>;
/// the weights can be overridden per call (<see cref="WithWeights"/>).
/// </summary>
public sealed record RewardObjectives
{
    /// <summary>The rewardkit.json key of the objective names.</summary>
    public const string NamesKey = "objectives";

    /// <summary>The rewardkit.json key of the weights.</summary>
    public const string WeightsKey = "objective_weights";

    /// <summary>Objectives named <paramref name="names"/> with <paramref name="weights"/> (one each); throws naming the problem.</summary>
    public RewardObjectives(IReadOnlyList<string> names, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(weights);
        if (names.Count < 2) throw new ArgumentException($"'objectives': give at least two comma-separated names (got {names.Count}), e.g. helpfulness,harmlessness,honesty.");
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count) throw new ArgumentException($"'objectives': the names {string.Join(", ", names)} repeat one.");
        if (names.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("'objectives': an objective name is empty.");
        if (weights.Count != names.Count)
            throw new ArgumentException($"'objective_weights': {weights.Count} weights for {names.Count} objectives ({string.Join(", ", names)}); give one per objective, e.g. {string.Join(",", names.Select(_ => "1"))}.");
        if (weights.Any(w => !double.IsFinite(w))) throw new ArgumentException("'objective_weights': every weight must be a finite number.");
        Names = names;
        Weights = weights;
    }

    /// <summary>The objective names, in head order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The weight of each objective in the combined reward.</summary>
    public IReadOnlyList<double> Weights { get; }

    /// <summary>K, the number of objectives.</summary>
    public int Count => Names.Count;

    /// <summary>Parses <c>a,b,c</c> names and optional <c>1,0.5,2</c> weights (default 1 each).</summary>
    public static RewardObjectives Parse(string names, string? weights = null)
    {
        var list = names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return new RewardObjectives(list, weights is null ? [.. list.Select(_ => 1.0)] : ParseWeights(weights));
    }

    /// <summary>Parses comma-separated weights, naming a value that is not a number.</summary>
    public static double[] ParseWeights(string text) =>
        [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(w =>
            double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new ArgumentException($"'objective_weights': '{w}' is not a number; give comma-separated numbers such as 1,1,1."))];

    /// <summary>The same objectives with other weights (a per-call override).</summary>
    public RewardObjectives WithWeights(IReadOnlyList<double> weights) => new(Names, weights);

    /// <summary>Σ_k w_k · outputs[k] for one sequence's K outputs.</summary>
    public float Combine(ReadOnlySpan<float> outputs)
    {
        double sum = 0;
        for (int k = 0; k < Count; k++) sum += Weights[k] * outputs[k];
        return (float)sum;
    }

    /// <summary>The objectives <paramref name="metadata"/> records, or null for a single-objective model.</summary>
    public static RewardObjectives? FromMetadata(RewardModelMetadata metadata)
    {
        if (metadata.Extra is not { } extra || !extra.TryGetValue(NamesKey, out var names) || names.ValueKind != JsonValueKind.Array) return null;
        var list = names.EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
        var weights = extra.TryGetValue(WeightsKey, out var w) && w.ValueKind == JsonValueKind.Array
            ? w.EnumerateArray().Select(e => e.GetDouble()).ToArray() : [.. list.Select(_ => 1.0)];
        return new RewardObjectives(list, weights);
    }

    /// <summary>Records the names and weights in <paramref name="metadata"/>.</summary>
    public void WriteTo(RewardModelMetadata metadata)
    {
        metadata.Extra ??= [];
        metadata.Extra[NamesKey] = JsonSerializer.SerializeToElement(Names);
        metadata.Extra[WeightsKey] = JsonSerializer.SerializeToElement(Weights);
    }
}
