using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using RewardKit.Inference;
using RewardKit.Server;

namespace RewardKit.Benchmarks;

/// <summary>Options of <see cref="ServeBenchmark"/>.</summary>
public sealed record ServeBenchmarkOptions
{
    /// <summary>The model folder to serve.</summary>
    public required string Model { get; init; }

    /// <summary>Requests sent in total (default 1000, at most 1,000,000).</summary>
    public int Requests { get; init; } = 1000;

    /// <summary>Requests in flight at once (default 32, at most 1024).</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary>Pairs per request (default 1).</summary>
    public int ItemsPerRequest { get; init; } = 1;

    /// <summary>Micro-batching on (default) or one request per forward pass.</summary>
    public bool MicroBatching { get; init; } = true;

    /// <summary>The batching window in ms (null: the service default, <see cref="RewardServerOptions.BatchWindowMs"/>).</summary>
    public double? BatchWindowMs { get; init; }

    /// <summary>Sequences per forward pass inside a gathered batch (null: the service default, <see cref="RewardServerOptions.ForwardBatchSize"/>).</summary>
    public int? ForwardBatchSize { get; init; }

    /// <summary>
    /// Longest warm-up in seconds (default 60): rounds of requests are sent until the JIT has compiled nothing for 2 s,
    /// or until this much time has passed; 0 sends one round.
    /// </summary>
    public double MaxWarmupSeconds { get; init; } = 60;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public void Validate()
    {
        if (Requests is < 1 or > 1_000_000) throw new ArgumentException($"--requests is {Requests}; use 1 to 1,000,000.");
        if (Concurrency is < 1 or > 1024) throw new ArgumentException($"--concurrency is {Concurrency}; use 1 to 1024.");
        if (ItemsPerRequest is < 1 or > 256) throw new ArgumentException($"--items is {ItemsPerRequest}; use 1 to 256.");
        if (ForwardBatchSize is < 1 or > 1024) throw new ArgumentException($"--forward-batch is {ForwardBatchSize}; use 1 to 1024.");
        if (MaxWarmupSeconds is < 0 or > 3600) throw new ArgumentException($"the warm-up limit is {MaxWarmupSeconds} s; use 0 to 3600.");
        if (BatchWindowMs is < 0 or > 1000) throw new ArgumentException($"--batch-window-ms is {BatchWindowMs}; use 0 to 1000.");
    }
}

/// <summary>Throughput and latency of one benchmark run.</summary>
public sealed record ServeBenchmarkResult(bool MicroBatching, int Requests, int Concurrency, int ItemsPerRequest, int Errors,
    double Seconds, double RequestsPerSecond, double P50Ms, double P95Ms, double P99Ms, double MaxMs,
    double RssStartMb, double RssEndMb, double PeakRssMb, long ForwardBatches, double MeanBatchSequences)
{
    /// <summary>Time the batcher's worker spent in forward passes during the measurement.</summary>
    public double ForwardSeconds { get; init; }

    /// <summary>Share of the wall time the single scoring worker was busy in forward passes (near 1: the model is the bottleneck).</summary>
    public double ForwardBusyShare => Seconds > 0 ? ForwardSeconds / Seconds : 0;

    /// <summary>Forward time per request, in ms.</summary>
    public double ForwardMsPerRequest => Requests > 0 ? 1000 * ForwardSeconds / Requests : 0;

    /// <summary>
    /// CPU time of the worker's forward passes during the measurement (its thread's CPU clock: time spent waiting for a
    /// core is not counted, unlike <see cref="ForwardSeconds"/>); zero where the clock is unavailable.
    /// </summary>
    public double ForwardCpuSeconds { get; init; }

    /// <summary>Forward CPU time per request, in ms: what one request costs the model, independent of other load.</summary>
    public double ForwardCpuMsPerRequest => Requests > 0 ? 1000 * ForwardCpuSeconds / Requests : 0;

    /// <summary>CPU time of the whole process (service, load client, GC) during the measurement.</summary>
    public double ProcessCpuSeconds { get; init; }

    /// <summary>Process CPU time per request, in ms.</summary>
    public double ProcessCpuMsPerRequest => Requests > 0 ? 1000 * ProcessCpuSeconds / Requests : 0;

    /// <summary>
    /// CPU per request outside the forward passes, in ms: the load client, Kestrel, JSON, tokenisation, batching and GC.
    /// On a machine with <c>n</c> cores, throughput cannot exceed <c>n / ProcessCpuMsPerRequest</c> requests per ms.
    /// </summary>
    public double OtherCpuMsPerRequest => ProcessCpuMsPerRequest - ForwardCpuMsPerRequest;

    /// <summary>1-minute load average when the measurement started and ended (NaN where unavailable): contention from other processes.</summary>
    public double LoadAverageStart { get; init; }

    /// <inheritdoc cref="LoadAverageStart"/>
    public double LoadAverageEnd { get; init; }

    /// <summary>Requests sent before the measurement, until the JIT settled.</summary>
    public int WarmupRequests { get; init; }

    /// <summary>Time the JIT spent compiling during the measurement, in ms (near 0 when the warm-up was long enough).</summary>
    public double JitMsDuringMeasurement { get; init; }

    /// <summary>The batching window used, in ms.</summary>
    public double BatchWindowMs { get; init; }

    /// <summary>Sequences per forward pass inside a gathered batch.</summary>
    public int ForwardBatchSize { get; init; }

    /// <summary>RSS in MB sampled every 0.5 s during the measurement (at most 40 evenly spaced samples): flat when memory is bounded.</summary>
    public double[] RssSamplesMb { get; init; } = [];
}

/// <summary>
/// Starts the service on a loopback port (127.0.0.1 only, cache off so every request reaches the model), sends a
/// bounded number of /v1/score requests from <see cref="ServeBenchmarkOptions.Concurrency"/> workers, and stops it.
/// </summary>
public static class ServeBenchmark
{
    /// <summary>Runs one benchmark.</summary>
    public static async Task<ServeBenchmarkResult> RunAsync(ServeBenchmarkOptions options, RewardModelLoader loader, CancellationToken cancellationToken = default)
    {
        options.Validate();
        string[] args =
        [
            "--urls", "http://127.0.0.1:0", "--model", options.Model,
            "--RewardKit:MicroBatching", options.MicroBatching ? "true" : "false",
            "--RewardKit:CacheEntries", "0",
            "--RewardKit:QueueCapacity", Math.Max(256, options.Concurrency * 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--Logging:LogLevel:Default", "Warning",
            .. (options.ForwardBatchSize is { } forward ? new[] { "--RewardKit:ForwardBatchSize", forward.ToString(System.Globalization.CultureInfo.InvariantCulture) } : []),
            .. (options.BatchWindowMs is { } window ? new[] { "--RewardKit:BatchWindowMs", window.ToString(System.Globalization.CultureInfo.InvariantCulture) } : []),
        ];
        await using var app = RewardServer.Build(args, loader);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var host = app.Services.GetRequiredService<ModelHost>();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency }) { BaseAddress = new Uri(address) };
        for (var i = 0; host.Current is null; i++)
        {
            if (i > 3000) throw new InvalidDataException($"{options.Model}: the model did not load: {host.LastError}");
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
        var served = host.Current!;

        var warmupRequests = await WarmUpAsync(client, options, cancellationToken).ConfigureAwait(false);
        var jitStart = System.Runtime.JitInfo.GetCompilationTime();
        long forwardTicks = 0;
        void OnBatch(int sequences, TimeSpan elapsed) => Interlocked.Add(ref forwardTicks, elapsed.Ticks);
        served.Batcher.BatchCompleted += OnBatch;
        var batchesBefore = served.Batcher.Batches;
        var sequencesBefore = served.Batcher.Sequences;
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var rssStart = process.WorkingSet64;
        var cpuStart = process.TotalProcessorTime;
        var forwardCpuStart = served.Batcher.ForwardCpuTime;
        var loadStart = RewardKit.Benchmarks.ProcessMemory.LoadAverage1Min();

        // RSS sampled twice a second while the requests run (kept to at most 40 evenly spaced samples in the result).
        var rssSamples = new List<double>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var self = Process.GetCurrentProcess();
            while (!sampling.IsCancellationRequested)
            {
                self.Refresh();
                lock (rssSamples) rssSamples.Add(self.WorkingSet64 / (double)(1 << 20));
                try { await Task.Delay(500, sampling.Token).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
            }
        }, CancellationToken.None);
        var latencies = new double[options.Requests];
        var next = -1;
        var errors = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < options.Requests)
            {
                var started = Stopwatch.GetTimestamp();
                if (!await Send(client, i, options.ItemsPerRequest, cancellationToken).ConfigureAwait(false)) Interlocked.Increment(ref errors);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        })).ConfigureAwait(false);
        clock.Stop();
        process.Refresh();
        var cpuEnd = process.TotalProcessorTime;
        var forwardCpu = served.Batcher.ForwardCpuTime - forwardCpuStart;
        var loadEnd = RewardKit.Benchmarks.ProcessMemory.LoadAverage1Min();
        var jitDuring = System.Runtime.JitInfo.GetCompilationTime() - jitStart;
        await sampling.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);
        process.Refresh();
        served.Batcher.BatchCompleted -= OnBatch;
        var batches = served.Batcher.Batches - batchesBefore;
        var sequences = served.Batcher.Sequences - sequencesBefore;
        await app.StopAsync(cancellationToken).ConfigureAwait(false);

        Array.Sort(latencies);
        double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
        const double mb = 1 << 20;
        return new ServeBenchmarkResult(options.MicroBatching, options.Requests, options.Concurrency, options.ItemsPerRequest, errors,
            clock.Elapsed.TotalSeconds, options.Requests / clock.Elapsed.TotalSeconds, Percentile(0.50), Percentile(0.95), Percentile(0.99), latencies[^1],
            rssStart / mb, process.WorkingSet64 / mb, process.PeakWorkingSet64 / mb, batches, batches == 0 ? 0 : (double)sequences / batches)
        {
            ForwardSeconds = TimeSpan.FromTicks(Interlocked.Read(ref forwardTicks)).TotalSeconds,
            ForwardCpuSeconds = forwardCpu.TotalSeconds,
            ProcessCpuSeconds = (cpuEnd - cpuStart).TotalSeconds,
            LoadAverageStart = loadStart,
            LoadAverageEnd = loadEnd,
            WarmupRequests = warmupRequests,
            JitMsDuringMeasurement = jitDuring.TotalMilliseconds,
            RssSamplesMb = Downsample(rssSamples, 40),
            BatchWindowMs = options.BatchWindowMs ?? new RewardServerOptions().BatchWindowMs,
            ForwardBatchSize = options.ForwardBatchSize ?? new RewardServerOptions().ForwardBatchSize,
        };
    }

    /// <summary>
    /// Sends rounds of <see cref="ServeBenchmarkOptions.Concurrency"/> requests until the JIT has settled: tiered
    /// compilation recompiles the hot methods (the forward pass among them) in the background for some seconds after
    /// they start running, and on a small machine that compiler thread takes a core from the measurement. Warm-up ends
    /// when no method was compiled for at least 2 s (or after <see cref="ServeBenchmarkOptions.MaxWarmupSeconds"/>); returns the requests sent.
    /// </summary>
    static async Task<int> WarmUpAsync(HttpClient client, ServeBenchmarkOptions options, CancellationToken cancellationToken)
    {
        var sent = 0;
        var watch = new RewardKit.Benchmarks.JitQuietWatch();
        var limit = TimeSpan.FromSeconds(options.MaxWarmupSeconds);
        while (true)
        {
            await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(w => Send(client, -1 - w, options.ItemsPerRequest, cancellationToken))).ConfigureAwait(false);
            sent += options.Concurrency;
            if (watch.Elapsed >= limit || watch.IsQuietFor(TimeSpan.FromSeconds(2))) break;
        }
        return sent;
    }

    static double[] Downsample(List<double> samples, int count) =>
        samples.Count <= count ? [.. samples] : Enumerable.Range(0, count).Select(i => samples[(int)((long)i * (samples.Count - 1) / (count - 1))]).ToArray();

    static async Task<bool> Send(HttpClient client, int i, int items, CancellationToken cancellationToken)
    {
        var body = new { items = Enumerable.Range(0, items).Select(k => new { prompt = "Explain why the sky is blue.", response = $"Because of Rayleigh scattering, answer {i} part {k}." }) };
        try
        {
            using var response = await client.PostAsJsonAsync("/v1/score", body, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
