using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit train</c>: Reward-model training pairs/s, beside ../shared/bench/torch_rm_bench.py.</summary>
public static class BenchTrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Reward-model training pairs/s, beside ../shared/bench/torch_rm_bench.py.");
        command.SetAction(_ => NotBuilt.Report("train"));
        return command;
    }
}
