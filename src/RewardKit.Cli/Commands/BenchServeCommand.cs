using System.CommandLine;
using System.Text.Json;
using RewardKit.Benchmarks;
using RewardKit.Inference;
using RewardKit.Server;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit bench serve</c>: HTTP service throughput and latency on loopback.</summary>
public static class BenchServeCommand
{
    /// <summary>Builds the <c>bench serve</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var model = ScoringCli.ModelOption();
        var requests = new Option<int>("--requests") { Description = "Requests in total (default 10000, at most 1,000,000).", DefaultValueFactory = _ => 10_000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight (default 32).", DefaultValueFactory = _ => 32 };
        var items = new Option<int>("--items") { Description = "Pairs per request (default 1).", DefaultValueFactory = _ => 1 };
        var mode = new Option<string>("--mode") { Description = "both (default), batched, or single (one request per forward pass).", DefaultValueFactory = _ => "both" };
        var window = new Option<double?>("--batch-window-ms") { Description = "Micro-batching window in ms (default: the service's, 2)." };
        var forward = new Option<int?>("--forward-batch") { Description = "Sequences per forward pass inside a gathered batch (default: the service's, 32)." };
        var threads = new Option<int>("--forward-threads")
        {
            Description = "Threads of each forward pass, the batcher's worker included (default 1: the service's own loader passes no pool). Both modes get the same.",
            DefaultValueFactory = _ => 1,
        };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var command = new Command("serve", "HTTP service throughput and latency on loopback.") { model, requests, concurrency, items, mode, window, forward, threads, json };
        command.SetAction(async (parse, ct) =>
        {
            var modes = parse.GetValue(mode) switch
            {
                "both" => new[] { true, false },
                "batched" => [true],
                "single" => [false],
                var other => throw new UserErrorException($"--mode '{other}' is unknown; use both, batched or single."),
            };
            var forwardThreads = parse.GetValue(threads);
            if (forwardThreads is < 1 or > 64) throw new UserErrorException($"--forward-threads is {forwardThreads}; use 1 to 64.");
            using var pool = forwardThreads > 1 ? new RewardKit.Tensors.Kernels.WorkerPool(forwardThreads) : null;
            RewardKit.Inference.RewardModelLoader loader = pool is null ? directory => ScoringCli.Load(directory) : directory => GptModelLoader.Load(directory, pool);
            var results = new List<ServeBenchmarkResult>();
            foreach (var batching in modes)
                results.Add(await ServeBenchmark.RunAsync(new ServeBenchmarkOptions
                {
                    Model = ScoringCli.ResolveModel(parse.GetValue(model)!, ct), Requests = parse.GetValue(requests), Concurrency = parse.GetValue(concurrency),
                    ItemsPerRequest = parse.GetValue(items), MicroBatching = batching, BatchWindowMs = parse.GetValue(window), ForwardBatchSize = parse.GetValue(forward),
                }, loader, ct));
            double? speedup = results.Count == 2 ? results[0].RequestsPerSecond / results[1].RequestsPerSecond : null;
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { results, forward_threads = forwardThreads, micro_batching_speedup = speedup }, ScoringCli.Json));
            else
            {
                foreach (var r in results)
                    Console.WriteLine($"{(r.MicroBatching ? "micro-batched" : "one per forward"),-16} {r.RequestsPerSecond,8:N0} req/s  p50 {r.P50Ms:0.0} ms  p95 {r.P95Ms:0.0} ms  p99 {r.P99Ms:0.0} ms  errors {r.Errors}  mean batch {r.MeanBatchSequences:0.0}  forward {r.ForwardMsPerRequest:0.00} ms/request (worker busy {r.ForwardBusyShare:P0}), CPU {r.ForwardCpuMsPerRequest:0.00} forward + {r.OtherCpuMsPerRequest:0.00} other ms/request  RSS {r.RssStartMb:0}->{r.RssEndMb:0} MB (peak {r.PeakRssMb:0})  load {r.LoadAverageStart:0.0}->{r.LoadAverageEnd:0.0}");
                if (speedup is { } s) Console.WriteLine($"micro-batching speed-up: {s:0.00}x");
            }
            return results.Any(r => r.Errors > 0) ? CliApp.UserError : CliApp.Success;
        });
        return command;
    }
}
