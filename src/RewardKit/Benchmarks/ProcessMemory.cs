using System.Globalization;

namespace RewardKit.Benchmarks;

/// <summary>This process's resident memory from <c>/proc/self/status</c> (Linux); NaN elsewhere.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in MiB, as the reference's ru_maxrss.</summary>
    public static double PeakRssMb() => ReadKb("VmHWM:") / 1024.0;

    /// <summary>Current resident set size (VmRSS) in MiB.</summary>
    public static double CurrentRssMb() => ReadKb("VmRSS:") / 1024.0;

    static double ReadKb(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    var value = line[key.Length..].Trim();
                    int space = value.IndexOf(' ');
                    return double.Parse(space < 0 ? value : value[..space], CultureInfo.InvariantCulture);
                }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return double.NaN;
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
