using RewardKit.Benchmarks;

namespace RewardKit.Cli.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class BenchInferOnnxCommandTests
{
    [Fact]
    public void The_benchmark_times_three_sides_whose_rewards_agree()
    {
        var options = new RewardModelBenchOptions
        {
            Layers = 1, DModel = 16, Heads = 2, Seq = 8, Vocab = 50, InferBatch = 4, InferSteps = 2, InferWarmup = 1, Repeats = 3,
            JitSettleSeconds = 0,
        };
        var report = OnnxRuntimeInferBench.Run(options);

        foreach (var side in new[] { "infer", "onnxruntime_infer", "onnxruntime_nospin_infer" })
        {
            Assert.True((double)report[$"{side}_seqs_per_s_median"]! > 0, side);
            Assert.Equal(3, ((double[])report[$"{side}_seqs_per_s_rounds"]!).Length);
        }
        Assert.InRange((double)report["max_abs_reward_difference"]!, 0, 1e-4);
        Assert.True((double)report["ratio_rewardkit_over_onnxruntime_nospin"]! > 0);
    }

    [Fact]
    public void Asking_it_for_the_gemm_floor_is_a_user_error_naming_the_flag()
    {
        var saved = Console.Error;
        var error = new StringWriter();
        Console.SetError(error);
        try { Assert.Equal(CliApp.UserError, CliApp.Run(["bench", "infer-onnx", "--preset", "tiny", "--gemm-floor"])); }
        finally { Console.SetError(saved); }
        Assert.Contains("--gemm-floor", error.ToString());
    }
}
