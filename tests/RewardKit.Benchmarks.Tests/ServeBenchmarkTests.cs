namespace RewardKit.Benchmarks.Tests;

public class ServeBenchmarkTests
{
    [Fact]
    public async Task The_benchmark_runs_without_errors_and_micro_batching_shares_forward_passes()
    {
        using var temp = new TempDirectory();
        var model = FakeRewardModel.WriteFolder(temp["m"], forwardMs: 2);
        var batched = await ServeBenchmark.RunAsync(new ServeBenchmarkOptions { Model = model, Requests = 200, Concurrency = 16, MaxWarmupSeconds = 1 }, FakeRewardModel.Load);
        var single = await ServeBenchmark.RunAsync(new ServeBenchmarkOptions { Model = model, Requests = 200, Concurrency = 16, MicroBatching = false, MaxWarmupSeconds = 0 }, FakeRewardModel.Load);
        Assert.Equal(0, batched.Errors);
        Assert.Equal(0, single.Errors);
        Assert.Equal(1.0, single.MeanBatchSequences);
        Assert.True(batched.MeanBatchSequences > 2, $"mean batch {batched.MeanBatchSequences}");
        Assert.True(batched.P50Ms <= batched.P99Ms);
        Assert.Equal(16, single.WarmupRequests); // one round when the warm-up limit is 0
        Assert.InRange(batched.WarmupRequests, 16, 16 * 1000);
        Assert.True(batched.ProcessCpuSeconds > 0);
        // The fake forward pass sleeps: it takes wall time but next to no CPU.
        Assert.True(single.ForwardCpuSeconds < single.ForwardSeconds, $"forward CPU {single.ForwardCpuSeconds} s, wall {single.ForwardSeconds} s");
    }
}
