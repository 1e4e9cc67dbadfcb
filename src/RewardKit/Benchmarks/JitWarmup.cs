using System.Diagnostics;

namespace RewardKit.Benchmarks;

/// <summary>
/// Warm-up that waits for the JIT: tiered compilation first runs quick code and recompiles hot methods with full
/// optimisation in the background, so a benchmark that starts timing after a fixed few steps times the compiler too.
/// </summary>
public static class JitWarmup
{
    /// <summary>
    /// Runs <paramref name="step"/> <paramref name="minSteps"/> times, then until no method was compiled for
    /// <paramref name="settleSeconds"/> (checked between steps) or <paramref name="maxSeconds"/> have passed.
    /// </summary>
    /// <returns>How many steps ran.</returns>
    public static int Run(Action<int> step, int minSteps, double settleSeconds, double maxSeconds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(step);
        var clock = Stopwatch.StartNew();
        int i = 0;
        for (; i < minSteps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            step(i);
        }
        if (settleSeconds <= 0) return i;
        long lastCount = System.Runtime.JitInfo.GetCompiledMethodCount();
        var quietSince = clock.Elapsed;
        while (clock.Elapsed.TotalSeconds < maxSeconds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            step(i++);
            long count = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (count != lastCount) { lastCount = count; quietSince = clock.Elapsed; }
            else if ((clock.Elapsed - quietSince).TotalSeconds >= settleSeconds) break;
        }
        return i;
    }
}
