using System.CommandLine;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit gemm</c>: SGEMM GFLOP/s per shape, beside ../shared/bench/gemm_bench.py.</summary>
public static class BenchGemmCommand
{
    public static Command Create()
    {
        var command = new Command("gemm", "SGEMM GFLOP/s per shape, beside ../shared/bench/gemm_bench.py.");
        command.SetAction(_ => NotBuilt.Report("gemm"));
        return command;
    }
}
