using System.Globalization;

namespace RewardKit.Benchmarks;

/// <summary>This process's resident memory from <c>/proc/self/status</c> (Linux); NaN elsewhere.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in MiB, as the reference's ru_maxrss.</summary>
    public static double PeakRssMb() => Read().PeakMb;

    /// <summary>Current resident set size (VmRSS) in MiB.</summary>
    public static double CurrentRssMb() => Read().CurrentMb;

    /// <summary>
    /// Current and peak resident size from one read of <c>/proc/self/status</c>. The kernel reports VmHWM as at
    /// least VmRSS within one read; two separate reads race with the process's own growth between them.
    /// </summary>
    public static (double CurrentMb, double PeakMb) Read()
    {
        double current = double.NaN, peak = double.NaN;
        try
        {
            foreach (var line in File.ReadAllLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) current = ParseKb(line, "VmRSS:") / 1024.0;
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = ParseKb(line, "VmHWM:") / 1024.0;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return (current, peak);
    }

    static double ParseKb(string line, string key)
    {
        var value = line[key.Length..].Trim();
        int space = value.IndexOf(' ');
        return double.Parse(space < 0 ? value : value[..space], CultureInfo.InvariantCulture);
    }

    /// <summary>The 1-minute load average (a hint of contention from other processes); NaN when unavailable.</summary>
    public static double LoadAverage1Min()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return double.NaN;
    }
}
