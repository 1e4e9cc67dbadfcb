using RewardKit.Distributed;

namespace RewardKit.Tests.Distributed;

public class DistributedLaunchTests
{
    static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void A_process_started_by_Open_MPI_or_a_PMIx_launcher_is_an_MPI_launch()
    {
        Assert.True(DistributedLaunch.IsMpiLaunch(Env(("OMPI_COMM_WORLD_SIZE", "2"), ("OMPI_COMM_WORLD_RANK", "1"))));
        Assert.True(DistributedLaunch.IsMpiLaunch(Env(("PMIX_RANK", "0"))));
        Assert.False(DistributedLaunch.IsMpiLaunch(Env(("SLURM_JOB_ID", "7"))));
        Assert.Equal((4, 3), DistributedLaunch.AnnouncedWorld(Env(("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "3"))));
        Assert.Equal((1, 0), DistributedLaunch.AnnouncedWorld(Env()));
    }

    [Fact]
    public void A_plain_run_gets_the_single_process_communicator_and_never_loads_libmpi()
    {
        var communicator = DistributedLaunch.FromEnvironment(Env(("HOME", "/root")));
        Assert.Same(SingleProcessCommunicator.Instance, communicator);
        if (File.Exists("/proc/self/maps")) Assert.DoesNotContain("libmpi", File.ReadAllText("/proc/self/maps"));
    }

    [Fact]
    public void The_collective_timeout_comes_from_the_environment_in_seconds()
    {
        Assert.Equal(DistributedLaunch.DefaultTimeout, DistributedLaunch.TimeoutFromEnvironment(Env()));
        Assert.Equal(TimeSpan.FromSeconds(2.5), DistributedLaunch.TimeoutFromEnvironment(Env((DistributedLaunch.TimeoutVariable, "2.5"))));
        foreach (var bad in new[] { "0", "-3", "ten", "NaN" })
        {
            var e = Assert.Throws<ArgumentException>(() => DistributedLaunch.TimeoutFromEnvironment(Env((DistributedLaunch.TimeoutVariable, bad))));
            Assert.Contains(DistributedLaunch.TimeoutVariable, e.Message);
        }
    }
}
