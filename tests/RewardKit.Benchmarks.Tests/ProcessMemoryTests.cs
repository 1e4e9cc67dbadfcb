using RewardKit.Benchmarks;

namespace RewardKit.Benchmarks.Tests;

public class ProcessMemoryTests
{
    [Fact]
    public void Peak_resident_memory_is_at_least_the_current_one()
    {
        if (!OperatingSystem.IsLinux()) return;
        var (current, peak) = ProcessMemory.Read();
        Assert.True(current > 1, $"VmRSS {current} MB");
        Assert.True(peak >= current, $"VmHWM {peak} MB < VmRSS {current} MB");
    }
}
