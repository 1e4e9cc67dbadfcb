using System.CommandLine;
using RewardKit.Benchmarks;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit bench infer-onnx --preset tiny|small|gpt2 [the flags of bench infer] [--json]</c>: RewardKit's inference
/// and ONNX Runtime on the same model (exported with <c>export onnx</c>), same batches, interleaved rounds, and the ratio.
/// </summary>
public static class BenchInferOnnxCommand
{
    /// <summary>Builds the <c>bench infer-onnx</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var flags = new BenchModelFlags(inference: true);
        var command = new Command("infer-onnx",
            "Inference sequences/s of RewardKit beside ONNX Runtime running the exported model, in one run (interleaved rounds), with the ratio.");
        flags.AddTo(command);
        command.SetAction((parse, ct) => Task.FromResult(flags.Run(parse, log => OnnxRuntimeInferBench.Run(flags.Bind(parse), log, ct))));
        return command;
    }
}
