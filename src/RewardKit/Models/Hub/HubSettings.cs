namespace RewardKit.Models.Hub;

/// <summary>
/// Where and how Hugging Face Hub models are fetched, with the Hub client's own environment variables: <c>HF_ENDPOINT</c>
/// (default https://huggingface.co), <c>HF_HUB_CACHE</c> or <c>HF_HOME</c>/hub (default ~/.cache/huggingface/hub),
/// <c>HF_TOKEN</c> (sent as a bearer token) and <c>HF_HUB_OFFLINE</c> (1/true: only the cache is used).
/// </summary>
/// <param name="Endpoint">The Hub's base address, without a trailing slash.</param>
/// <param name="CacheDirectory">The hub cache folder (holding <c>models--org--name</c> folders).</param>
/// <param name="Token">An access token for gated or private models, or null.</param>
/// <param name="Offline">True to resolve from the cache only, never over the network.</param>
public sealed record HubSettings(string Endpoint, string CacheDirectory, string? Token, bool Offline)
{
    /// <summary>The default endpoint.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Settings from the environment (see the type's summary) or from <paramref name="variables"/> when given.</summary>
    public static HubSettings FromEnvironment(IReadOnlyDictionary<string, string?>? variables = null)
    {
        string? Get(string name) => variables is null ? Environment.GetEnvironmentVariable(name) : variables.GetValueOrDefault(name);
        var home = Get("HF_HOME") is { Length: > 0 } h ? h
            : Path.Combine(Get("XDG_CACHE_HOME") is { Length: > 0 } x ? x
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "huggingface");
        var cache = Get("HF_HUB_CACHE") is { Length: > 0 } c ? c : Path.Combine(home, "hub");
        var offline = Get("HF_HUB_OFFLINE")?.Trim().ToLowerInvariant() is "1" or "true" or "yes" or "on";
        var endpoint = (Get("HF_ENDPOINT") is { Length: > 0 } e ? e : DefaultEndpoint).TrimEnd('/');
        return new HubSettings(endpoint, cache, Get("HF_TOKEN") is { Length: > 0 } t ? t : null, offline);
    }
}
