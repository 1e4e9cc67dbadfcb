using System.Diagnostics;
using RewardKit.Benchmarks;

namespace RewardKit.Benchmarks.Tests;

public class JitWarmupTests
{
    [Fact]
    public void Without_settling_it_runs_exactly_the_fixed_steps_in_order()
    {
        var seen = new List<int>();
        Assert.Equal(3, JitWarmup.Run(seen.Add, minSteps: 3, settleSeconds: 0, maxSeconds: 10));
        Assert.Equal([0, 1, 2], seen);
    }

    [Fact]
    public void Settling_runs_more_steps_until_the_jit_is_quiet_and_never_past_the_time_limit()
    {
        var seen = new List<int>();
        var clock = Stopwatch.StartNew();
        int steps = JitWarmup.Run(i => { seen.Add(i); Thread.Sleep(5); }, minSteps: 2, settleSeconds: 0.05, maxSeconds: 2);
        Assert.True(steps > 2, $"{steps} steps: a settle time of 50 ms over 5 ms steps needs more than the fixed two");
        Assert.Equal(Enumerable.Range(0, steps), seen);
        Assert.True(clock.Elapsed.TotalSeconds < 2.5, $"took {clock.Elapsed.TotalSeconds:F2} s with a 2 s limit");
    }
}
