using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit infer</c>: Reward-model inference sequences/s, beside ../shared/bench/torch_rm_bench.py.</summary>
public static class BenchInferCommand
{
    public static Command Create()
    {
        var command = new Command("infer", "Reward-model inference sequences/s, beside ../shared/bench/torch_rm_bench.py.");
        command.SetAction(_ => NotBuilt.Report("infer"));
        return command;
    }
}
