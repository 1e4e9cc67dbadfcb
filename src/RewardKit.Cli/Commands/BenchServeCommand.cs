using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit serve</c>: HTTP service throughput and latency on loopback.</summary>
public static class BenchServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "HTTP service throughput and latency on loopback.");
        command.SetAction(_ => NotBuilt.Report("serve"));
        return command;
    }
}
