using System.Diagnostics.Metrics;

namespace RewardKit.Server;

/// <summary>The service's instruments (System.Diagnostics.Metrics), exported on /metrics by OpenTelemetry's Prometheus exporter.</summary>
public sealed class ServerMetrics
{
    /// <summary>The meter name's prefix; each host's meter is <c>RewardKit.Server.HOSTID</c> (see <see cref="Meter"/>).</summary>
    public const string MeterName = "RewardKit.Server";

    /// <summary>Bucket bounds of the request-duration histogram, in seconds.</summary>
    public static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Bucket bounds of the batch-size histogram, in sequences.</summary>
    public static readonly double[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

    readonly Counter<long> _requests;
    readonly Histogram<double> _duration;
    readonly Histogram<int> _batchSize;
    readonly Counter<long> _items;
    readonly Counter<long> _swapsRefused;
    ServedModel? _model;

    /// <summary>
    /// Creates the instruments on a meter from <paramref name="factory"/> named <paramref name="meterName"/>: a name of this
    /// host's own, because OpenTelemetry's exporter subscribes to meters by name across the process, and two hosts in one
    /// process (tests, side-by-side services) would otherwise export each other's counts.
    /// </summary>
    public ServerMetrics(IMeterFactory factory, string meterName)
    {
        Meter = factory.Create(meterName);
        _requests = Meter.CreateCounter<long>("rewardkit.http.requests", description: "HTTP requests by endpoint and status code.");
        _duration = Meter.CreateHistogram<double>("rewardkit.http.request.duration", "s", "HTTP request duration.");
        _batchSize = Meter.CreateHistogram<int>("rewardkit.batch.size", "{sequence}", "Sequences per micro-batch forward pass.");
        _items = Meter.CreateCounter<long>("rewardkit.scored.items", description: "Pairs scored (cache hits included).");
        _swapsRefused = Meter.CreateCounter<long>("rewardkit.model.swaps_refused", description: "Model versions refused (bad checksum or load failure).");
        Meter.CreateObservableGauge("rewardkit.queue.depth", () => _model?.Batcher.QueueDepth ?? 0, description: "Requests waiting for a forward pass.");
        Meter.CreateObservableCounter("rewardkit.queue.rejected", () => _model?.Batcher.Rejected ?? 0, description: "Requests refused with 429 by the current model's queue.");
        Meter.CreateObservableCounter("rewardkit.cache.hits", () => _model?.Scorer.Cache.Hits ?? 0, description: "Score cache hits of the current model.");
        Meter.CreateObservableCounter("rewardkit.cache.misses", () => _model?.Scorer.Cache.Misses ?? 0, description: "Score cache misses of the current model.");
        Meter.CreateObservableGauge("rewardkit.cache.entries", () => _model?.Scorer.Cache.Count ?? 0, description: "Score cache entries.");
        Meter.CreateObservableGauge("rewardkit.model.loaded", () => _model is null ? 0 : 1, description: "1 when a model is loaded.");
    }

    /// <summary>The meter holding every instrument.</summary>
    public Meter Meter { get; }

    internal void Attach(ServedModel model)
    {
        Volatile.Write(ref _model, model);
        model.Batcher.BatchCompleted += (count, _) => _batchSize.Record(count);
    }

    internal void Request(string endpoint, int status, TimeSpan elapsed)
    {
        var tags = new KeyValuePair<string, object?>[] { new("endpoint", endpoint), new("status", status) };
        _requests.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("endpoint", endpoint));
    }

    internal void Scored(int items) => _items.Add(items);

    internal void SwapRefused() => _swapsRefused.Add(1);
}
