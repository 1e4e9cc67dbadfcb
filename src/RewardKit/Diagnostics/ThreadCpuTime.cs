using System.Runtime.InteropServices;

namespace RewardKit.Diagnostics;

/// <summary>
/// CPU time consumed by the calling thread (<c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>, Linux). Unlike a wall
/// clock it does not count the time the thread waits for a core, so on a machine shared with other work it still
/// measures what a piece of code costs.
/// </summary>
public static class ThreadCpuTime
{
    const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>True when <see cref="Now"/> can read the thread's CPU clock on this system.</summary>
    public static bool IsSupported { get; } = Probe();

    /// <summary>The calling thread's CPU time so far, or <see cref="TimeSpan.Zero"/> when <see cref="IsSupported"/> is false.</summary>
    public static TimeSpan Now()
    {
        if (!IsSupported || ClockGetTime(ClockThreadCpuTimeId, out var t) != 0) return TimeSpan.Zero;
        return TimeSpan.FromTicks(t.Seconds * TimeSpan.TicksPerSecond + t.Nanoseconds / 100);
    }

    static bool Probe()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return ClockGetTime(ClockThreadCpuTimeId, out _) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }
}
