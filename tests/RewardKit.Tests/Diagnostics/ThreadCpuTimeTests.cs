using System.Diagnostics;
using RewardKit.Diagnostics;

namespace RewardKit.Tests.Diagnostics;

public class ThreadCpuTimeTests
{
    [Fact]
    public void The_clock_advances_while_the_thread_computes_and_not_while_it_sleeps()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(ThreadCpuTime.IsSupported);

        var start = ThreadCpuTime.Now();
        var wall = Stopwatch.StartNew();
        double sink = 0;
        // Spin until the thread has had 30 ms of CPU (bounded in wall time, for a very busy machine).
        while (ThreadCpuTime.Now() - start < TimeSpan.FromMilliseconds(30) && wall.Elapsed < TimeSpan.FromSeconds(20))
            for (int i = 0; i < 10_000; i++) sink += Math.Sqrt(i);
        var computed = ThreadCpuTime.Now() - start;
        Assert.True(computed >= TimeSpan.FromMilliseconds(30), $"computed {computed.TotalMilliseconds} ms of CPU in {wall.ElapsedMilliseconds} ms");
        Assert.True(computed <= wall.Elapsed + TimeSpan.FromMilliseconds(5), $"CPU {computed.TotalMilliseconds} ms exceeds wall {wall.Elapsed.TotalMilliseconds} ms");
        Assert.True(sink > 0);

        var beforeSleep = ThreadCpuTime.Now();
        Thread.Sleep(200);
        var slept = ThreadCpuTime.Now() - beforeSleep;
        Assert.True(slept < TimeSpan.FromMilliseconds(50), $"{slept.TotalMilliseconds} ms of CPU while sleeping 200 ms");
    }
}
