using Microsoft.Extensions.Configuration;

namespace RewardKit.Server;

/// <summary>
/// The service's settings, read from the <c>RewardKit</c> configuration section (appsettings, environment
/// <c>RewardKit__Model</c>, or <c>--RewardKit:Model</c>; the short switches <c>--model</c>, <c>--registry</c>,
/// <c>--name</c>, <c>--api-keys</c> map onto it).
/// </summary>
public sealed record RewardServerOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "RewardKit";

    // ---- model ----
    /// <summary>A model folder to serve (or use <see cref="Registry"/>).</summary>
    public string? Model { get; init; }

    /// <summary>A registry folder: the promoted version of <see cref="ModelName"/> is served and hot-swapped when the pointer moves.</summary>
    public string? Registry { get; init; }

    /// <summary>The model name inside the registry (default: the registry's only name).</summary>
    public string? ModelName { get; init; }

    /// <summary>
    /// Load a model folder even when its weights' sha256 is not the <c>version</c> in its rewardkit.json (default false:
    /// such a folder is refused). Set it (<c>serve --skip-version-check</c>) only for weights changed on purpose.
    /// </summary>
    public bool SkipVersionCheck { get; init; }

    /// <summary>How often the registry's <c>promoted.json</c> is polled, in milliseconds (default 1000).</summary>
    public double PollIntervalMs { get; init; } = 1000;

    // ---- security and limits ----
    /// <summary>A file with one sha256 (hex) of an API key per line; when set, <c>/v1/*</c> needs <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKeys { get; init; }

    /// <summary>Largest request body in bytes (default 1 MiB); larger bodies get 413.</summary>
    public long MaxBodyBytes { get; init; } = 1 << 20;

    /// <summary>Most items (or responses) per request (default 256); more get 413.</summary>
    public int MaxItems { get; init; } = 256;

    /// <summary>Longest prompt or response in characters (default 32,768); longer get 413.</summary>
    public int MaxTextLength { get; init; } = 32_768;

    /// <summary>Time a request may take before it is answered 503, in seconds (default 30).</summary>
    public double RequestTimeoutSeconds { get; init; } = 30;

    // ---- batching ----
    /// <summary>Share forward passes between concurrent requests (default true).</summary>
    public bool MicroBatching { get; init; } = true;

    /// <summary>Micro-batching window in milliseconds (default 2).</summary>
    public double BatchWindowMs { get; init; } = 2;

    /// <summary>Sequences gathered per micro-batch at most (default 64).</summary>
    public int MaxBatchSequences { get; init; } = 64;

    /// <summary>Sequences per forward pass (default 32).</summary>
    public int ForwardBatchSize { get; init; } = 32;

    /// <summary>Requests waiting for a forward pass at most (default 256); beyond it requests get 429 with Retry-After.</summary>
    public int QueueCapacity { get; init; } = 256;

    /// <summary>Score cache entries (default 100,000; 0 disables).</summary>
    public int CacheEntries { get; init; } = 100_000;

    /// <summary>Served rewards kept for drift monitoring (default 10,000).</summary>
    public int DriftWindow { get; init; } = 10_000;

    /// <summary>Reads the options from <paramref name="configuration"/> and validates them.</summary>
    public static RewardServerOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<RewardServerOptions>() ?? new RewardServerOptions();
        options.Validate();
        return options;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting and the fix.</summary>
    public void Validate()
    {
        if (Model is not null && Registry is not null) throw new ArgumentException("set either RewardKit:Model (--model) or RewardKit:Registry (--registry), not both.");
        if (MaxBodyBytes < 1) throw new ArgumentException($"MaxBodyBytes is {MaxBodyBytes}; use a positive byte count.");
        if (MaxItems < 1) throw new ArgumentException($"MaxItems is {MaxItems}; use at least 1.");
        if (MaxTextLength < 1) throw new ArgumentException($"MaxTextLength is {MaxTextLength}; use at least 1.");
        if (!(RequestTimeoutSeconds > 0)) throw new ArgumentException($"RequestTimeoutSeconds is {RequestTimeoutSeconds}; use a positive number of seconds.");
        if (!(PollIntervalMs > 0)) throw new ArgumentException($"PollIntervalMs is {PollIntervalMs}; use a positive number of milliseconds.");
        if (BatchWindowMs < 0) throw new ArgumentException($"BatchWindowMs is {BatchWindowMs}; use 0 or more.");
        if (DriftWindow < 1) throw new ArgumentException($"DriftWindow is {DriftWindow}; use at least 1.");
    }
}
