using System.CommandLine;
using RewardKit.Benchmarks;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit bench infer --preset tiny|small|gpt2 [--layers --d-model --heads --seq --vocab --infer-batch --steps
/// --warmup --repeats --threads --seed] [--json]</c>: reward-model inference sequences/s (inference mode, batches of 32),
/// doing the work of ../shared/bench/torch_rm_bench.py's inference phase.
/// </summary>
public static class BenchInferCommand
{
    /// <summary>Builds the <c>bench infer</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var flags = new BenchModelFlags(inference: true);
        var command = new Command("infer", "Reward-model inference sequences/s (inference mode), beside ../shared/bench/torch_rm_bench.py.");
        flags.AddTo(command);
        command.SetAction((parse, ct) => Task.FromResult(flags.Run(parse, log => RewardModelBench.Infer(flags.Bind(parse), log, ct))));
        return command;
    }
}
