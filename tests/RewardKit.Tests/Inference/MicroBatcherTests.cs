using RewardKit.IO;
using RewardKit.Inference;

namespace RewardKit.Tests.Inference;

public class MicroBatcherTests
{
    static FakeRewardModel Model() => new(new RewardModelMetadata { Name = "fake", Version = "v", MaxLength = 64 });

    static int[] Seq(int i) => [FakeRewardModel.Separator, i % FakeRewardModel.Vocabulary];

    [Fact]
    public async Task Requests_waiting_during_a_forward_pass_share_the_next_one()
    {
        using var model = Model();
        using var gate = new ManualResetEventSlim(false);
        var first = true;
        model.OnForward = _ => { if (first) { first = false; gate.Wait(TimeSpan.FromSeconds(10)); } };
        await using var batcher = new MicroBatcher(model, new MicroBatcherOptions { Window = TimeSpan.FromMilliseconds(1), MaxBatchSequences = 64 });
        var blocker = batcher.ScoreAsync([Seq(0)]).AsTask();
        while (model.Forwards == 0) await Task.Delay(1);
        var waiting = Enumerable.Range(1, 10).Select(i => batcher.ScoreAsync([Seq(i), Seq(i + 100)]).AsTask()).ToArray();
        gate.Set();
        var results = await Task.WhenAll(waiting);
        await blocker;
        Assert.Equal(2, model.Forwards); // the blocked one, then all ten requests together
        Assert.Equal(20, model.MaxBatch);
        var direct = new float[2];
        model.ScoreTokens([Seq(3), Seq(103)], direct);
        Assert.Equal(direct, results[2]);
    }

    [Fact]
    public async Task Without_micro_batching_each_request_gets_its_own_forward_pass()
    {
        using var model = Model();
        await using var batcher = new MicroBatcher(model, new MicroBatcherOptions { Enabled = false });
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => batcher.ScoreAsync([Seq(i)]).AsTask()));
        Assert.Equal(20, model.Forwards);
        Assert.Equal(1, model.MaxBatch);
    }

    [Fact]
    public async Task A_full_queue_refuses_at_once_instead_of_growing()
    {
        using var model = Model();
        using var gate = new ManualResetEventSlim(false);
        model.OnForward = _ => gate.Wait(TimeSpan.FromSeconds(10));
        await using var batcher = new MicroBatcher(model, new MicroBatcherOptions { QueueCapacity = 2, Window = TimeSpan.Zero });
        var running = batcher.ScoreAsync([Seq(0)]).AsTask();
        while (model.Forwards == 0) await Task.Delay(1);
        var queued = new[] { batcher.ScoreAsync([Seq(1)]).AsTask(), batcher.ScoreAsync([Seq(2)]).AsTask() };
        var e = Assert.Throws<QueueFullException>(() => batcher.ScoreAsync([Seq(3)]));
        Assert.Equal(2, e.Capacity);
        Assert.Equal(1, batcher.Rejected);
        gate.Set();
        await Task.WhenAll(queued.Append(running));
    }

    [Fact]
    public async Task Disposing_finishes_the_queued_requests()
    {
        using var model = Model();
        model.ForwardDelay = TimeSpan.FromMilliseconds(5);
        var batcher = new MicroBatcher(model, new MicroBatcherOptions { Enabled = false });
        var pending = Enumerable.Range(0, 5).Select(i => batcher.ScoreAsync([Seq(i)]).AsTask()).ToArray();
        await batcher.DisposeAsync();
        Assert.Equal(5, model.SequencesScored); // scored before DisposeAsync returned
        Assert.All(await Task.WhenAll(pending), r => Assert.Single(r));
        Assert.Throws<ObjectDisposedException>(() => batcher.ScoreAsync([Seq(9)]));
    }

    [Fact]
    public async Task A_failing_forward_pass_fails_only_its_batch()
    {
        using var model = Model();
        var fail = true;
        model.OnForward = _ => { if (fail) { fail = false; throw new InvalidOperationException("boom"); } };
        await using var batcher = new MicroBatcher(model, new MicroBatcherOptions { Enabled = false });
        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.ScoreAsync([Seq(1)]).AsTask());
        Assert.Single(await batcher.ScoreAsync([Seq(2)]));
    }

    [Fact]
    public async Task A_cancelled_caller_stops_waiting()
    {
        using var model = Model();
        using var gate = new ManualResetEventSlim(false);
        model.OnForward = _ => gate.Wait(TimeSpan.FromSeconds(10));
        await using var batcher = new MicroBatcher(model);
        var running = batcher.ScoreAsync([Seq(0)]).AsTask();
        using var cts = new CancellationTokenSource();
        var waiting = batcher.ScoreAsync([Seq(1)], cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        gate.Set();
        await running;
    }

    [Fact]
    public async Task Forward_passes_run_on_a_dedicated_thread_and_their_cpu_time_is_counted()
    {
        using var model = Model();
        var onPool = new List<bool>();
        model.OnForward = _ =>
        {
            lock (onPool) onPool.Add(Thread.CurrentThread.IsThreadPoolThread);
            // Burn 10 ms of this thread's CPU (not wall time: the machine may be busy).
            var start = RewardKit.Diagnostics.ThreadCpuTime.Now();
            var wall = System.Diagnostics.Stopwatch.StartNew();
            while (RewardKit.Diagnostics.ThreadCpuTime.IsSupported && RewardKit.Diagnostics.ThreadCpuTime.Now() - start < TimeSpan.FromMilliseconds(10)
                   && wall.Elapsed < TimeSpan.FromSeconds(10)) Thread.SpinWait(1000);
            Thread.Sleep(20); // waiting: not counted
        };
        var wallClock = System.Diagnostics.Stopwatch.StartNew();
        await using var batcher = new MicroBatcher(model, new MicroBatcherOptions { Enabled = false });
        for (var i = 0; i < 5; i++) await batcher.ScoreAsync([Seq(i)]);
        Assert.Equal(5, onPool.Count);
        Assert.All(onPool, Assert.False); // a forward pass never holds a thread-pool thread
        if (!RewardKit.Diagnostics.ThreadCpuTime.IsSupported) return;
        var cpu = batcher.ForwardCpuTime;
        Assert.True(cpu >= TimeSpan.FromMilliseconds(50), $"forward CPU {cpu.TotalMilliseconds} ms for 5 x 10 ms");
        Assert.True(cpu < TimeSpan.FromMilliseconds(50) + 5 * TimeSpan.FromMilliseconds(15), $"forward CPU {cpu.TotalMilliseconds} ms counts the 5 x 20 ms sleeps");
        Assert.True(cpu <= wallClock.Elapsed);
    }
}
