using System.Text.Json.Serialization;

namespace RewardKit.IO;

/// <summary>An equal-width histogram: <see cref="Edges"/> has one more entry than <see cref="Counts"/>.</summary>
public sealed record RewardHistogram(
    [property: JsonPropertyName("edges")] double[] Edges,
    [property: JsonPropertyName("counts")] long[] Counts);
