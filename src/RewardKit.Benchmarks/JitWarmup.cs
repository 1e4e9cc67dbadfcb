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
    /// <param name="step">One warm-up step (its argument counts from 0).</param>
    /// <param name="minSteps">Steps always run.</param>
    /// <param name="settleSeconds">JIT-quiet time that ends the warm-up (0: exactly <paramref name="minSteps"/>).</param>
    /// <param name="maxSeconds">Time after which the warm-up ends even if the JIT is still busy.</param>
    /// <param name="cancellationToken">Checked before each step.</param>
    /// <param name="everyRank">
    /// In a data-parallel job, turns this process's "done" into the job's (true when every rank is done), so all ranks run
    /// the same number of steps; null in a single process.
    /// </param>
    /// <returns>How many steps ran.</returns>
    public static int Run(Action<int> step, int minSteps, double settleSeconds, double maxSeconds, CancellationToken cancellationToken = default,
        Func<bool, bool>? everyRank = null)
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
        var watch = new JitQuietWatch();
        var settle = TimeSpan.FromSeconds(settleSeconds);
        bool done = clock.Elapsed.TotalSeconds >= maxSeconds;
        while (!(everyRank?.Invoke(done) ?? done))
        {
            cancellationToken.ThrowIfCancellationRequested();
            step(i++);
            done = watch.IsQuietFor(settle) || clock.Elapsed.TotalSeconds >= maxSeconds;
        }
        return i;
    }
}

/// <summary>
/// Tells, when asked between steps of a warm-up, whether the JIT has compiled nothing for a given time
/// (<see cref="System.Runtime.JitInfo.GetCompiledMethodCount"/>, process-wide). Starts counting when created.
/// </summary>
public sealed class JitQuietWatch
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    long _count = System.Runtime.JitInfo.GetCompiledMethodCount();
    TimeSpan _quietSince;

    /// <summary>Time since the watch was created.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>True when no method has been compiled since the last call that saw a compilation, for at least <paramref name="quiet"/>.</summary>
    public bool IsQuietFor(TimeSpan quiet)
    {
        long count = System.Runtime.JitInfo.GetCompiledMethodCount();
        if (count != _count)
        {
            _count = count;
            _quietSince = _clock.Elapsed;
            return false;
        }
        return _clock.Elapsed - _quietSince >= quiet;
    }
}
