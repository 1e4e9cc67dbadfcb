namespace RewardKit.Server.Annotation;

/// <summary>How the annotation app is served (the project itself, tasks and settings, lives in the database).</summary>
public sealed record AnnotationServerOptions
{
    /// <summary>The annotation database (created by <c>rewardkit annotate serve</c>).</summary>
    public required string Database { get; init; }

    /// <summary>Requests per minute one invite token (or, before sign-in, one IP address) may make; more get 429. Default 120.</summary>
    public int RequestsPerMinute { get; init; } = 120;

    /// <summary>Largest form body accepted, in bytes; larger ones get 413. Default 64 KiB.</summary>
    public int MaxFormBytes { get; init; } = 64 * 1024;

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the option and the fix.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Database)) throw new ArgumentException("--db is required: the annotation database file.");
        if (RequestsPerMinute is < 1 or > 1_000_000) throw new ArgumentException($"--rate-limit is {RequestsPerMinute}; use 1 to 1000000 requests per minute per token.");
        if (MaxFormBytes is < 4096 or > 16 << 20) throw new ArgumentException($"the form limit is {MaxFormBytes} bytes; use 4096 to 16777216.");
    }
}
