using RewardKit.IO;
using RewardKit.Inference;

namespace RewardKit.Server;

/// <summary>
/// One loaded model with its scorer, micro-batcher and drift monitor. Reference-counted: requests hold a lease, and
/// a swapped-out model is disposed only when its last request has finished, so a swap never fails a request.
/// </summary>
public sealed class ServedModel
{
    int _leases = 1; // the host's own reference

    internal ServedModel(IRewardModel model, RewardServerOptions options, string source, string? registryVersion)
    {
        Model = model;
        Batcher = new MicroBatcher(model, new MicroBatcherOptions
        {
            Enabled = options.MicroBatching, Window = TimeSpan.FromMilliseconds(options.BatchWindowMs),
            MaxBatchSequences = options.MaxBatchSequences, ForwardBatchSize = options.ForwardBatchSize, QueueCapacity = options.QueueCapacity,
        });
        try
        {
            Scorer = new RewardScorer(model, new RewardScorerOptions { BatchSize = options.ForwardBatchSize, CacheEntries = options.CacheEntries }, Batcher);
            Drift = new DriftMonitor(model.Metadata.RewardHistogram, options.DriftWindow);
        }
        catch
        {
            Batcher.Dispose();
            throw;
        }
        Source = source;
        RegistryVersion = registryVersion;
    }

    /// <summary>The model.</summary>
    public IRewardModel Model { get; }

    /// <summary>Scores through <see cref="Batcher"/> with the cache.</summary>
    public RewardScorer Scorer { get; }

    /// <summary>Shares forward passes between requests.</summary>
    public MicroBatcher Batcher { get; }

    /// <summary>Rolling histogram of the rewards served.</summary>
    public DriftMonitor Drift { get; }

    /// <summary>The folder it was loaded from.</summary>
    public string Source { get; }

    /// <summary>The registry version, when served from a registry.</summary>
    public string? RegistryVersion { get; }

    /// <summary>When it was loaded.</summary>
    public DateTimeOffset LoadedUtc { get; } = DateTimeOffset.UtcNow;

    internal bool TryAcquire()
    {
        while (true)
        {
            var n = Volatile.Read(ref _leases);
            if (n == 0) return false;
            if (Interlocked.CompareExchange(ref _leases, n + 1, n) == n) return true;
        }
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _leases) != 0) return;
        // Last reference gone: finish queued work, then free the model (off the request thread).
        _ = Task.Run(async () =>
        {
            await Batcher.DisposeAsync().ConfigureAwait(false);
            Model.Dispose();
        });
    }
}

/// <summary>A request's hold on a <see cref="ServedModel"/>; dispose it when the request is done.</summary>
public readonly struct ModelLease(ServedModel model) : IDisposable
{
    /// <summary>The model held.</summary>
    public ServedModel Model { get; } = model;

    /// <inheritdoc/>
    public void Dispose() => Model?.Release();
}
