using RewardKit.Benchmarks;

namespace RewardKit.Benchmarks.Tests;

public class RewardModelBenchOptionsTests
{
    [Theory]
    [InlineData("tiny", 2, 128, 4, 64, 8192, 3, 20)]
    [InlineData("small", 4, 256, 4, 128, 16384, 2, 8)]
    [InlineData("gpt2", 12, 768, 12, 256, 50257, 1, 2)]
    public void Presets_match_the_pytorch_reference(string name, int layers, int d, int heads, int seq, int vocab, int warmup, int steps)
    {
        var o = RewardModelBenchOptions.FromPreset(name).Validate();
        Assert.Equal((layers, d, heads, seq, vocab, warmup, steps, warmup, steps), (o.Layers, o.DModel, o.Heads, o.Seq, o.Vocab, o.Warmup, o.Steps, o.InferWarmup, o.InferSteps));
        Assert.Equal((8, 32, 3, 2), (o.PairsPerBatch, o.InferBatch, o.Repeats, o.Threads));
    }

    [Fact]
    public void The_flop_model_is_the_reference_formula()
    {
        var o = RewardModelBenchOptions.FromPreset("tiny");
        double perToken = 2 * (24.0 * 128 * 128 + 4.0 * 64 * 128);
        Assert.Equal(perToken, o.ForwardFlopPerToken);
        Assert.Equal(3 * perToken * 2 * 64, o.TrainFlopPerPair);
        Assert.Equal(perToken * 64, o.InferFlopPerSequence);
    }

    [Fact]
    public void Invalid_settings_name_their_flag()
    {
        var e = Assert.Throws<ArgumentException>(() => (new RewardModelBenchOptions() with { Heads = 3 }).Validate());
        Assert.Contains("--heads", e.Message);
        Assert.Contains("--steps", Assert.Throws<ArgumentException>(() => (new RewardModelBenchOptions() with { Steps = 0 }).Validate()).Message);
        Assert.Contains("--preset", Assert.Throws<ArgumentException>(() => RewardModelBenchOptions.FromPreset("huge")).Message);
    }
}
