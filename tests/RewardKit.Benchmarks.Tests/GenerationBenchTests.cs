using RewardKit.Benchmarks;

namespace RewardKit.Benchmarks.Tests;

public class GenerationBenchTests
{
    [Fact]
    public void Presets_take_the_reward_model_benchs_shapes_with_prompts_of_half_its_sequence()
    {
        foreach (var name in GenerationBenchOptions.PresetNames)
        {
            var g = GenerationBenchOptions.FromPreset(name);
            var rm = RewardModelBenchOptions.FromPreset(name);
            Assert.Equal((rm.Layers, rm.DModel, rm.Heads, rm.Vocab, rm.Seq / 2), (g.Layers, g.DModel, g.Heads, g.Vocab, g.PromptTokens));
            Assert.Equal(g.PromptTokens + g.NewTokens, g.ModelConfig().Positions);
        }
        Assert.Contains("--preset", Assert.Throws<ArgumentException>(() => GenerationBenchOptions.FromPreset("huge")).Message);
        Assert.Contains("--heads", Assert.Throws<ArgumentException>(() => new GenerationBenchOptions { Heads = 3 }.Validate()).Message);
        Assert.Contains("--new-tokens", Assert.Throws<ArgumentException>(() => new GenerationBenchOptions { NewTokens = 0 }.Validate()).Message);
    }

    [Fact]
    public void A_run_reports_the_rates_and_generates_the_same_tokens_every_time()
    {
        var options = new GenerationBenchOptions { Layers = 1, DModel = 16, Heads = 2, Vocab = 64, PromptTokens = 4, Batch = 3, NewTokens = 5, Warmup = 0, Repeats = 2, Threads = 1, JitSettleSeconds = 0 };
        var first = GenerationBench.Run(options);
        var second = GenerationBench.Run(options with { Threads = 2 });
        Assert.Equal("rewardkit_generate_bench", first["bench"]);
        Assert.Equal(2, ((double[])first["generate_tokens_per_s_rounds"]!).Length);
        Assert.True((double)first["generate_tokens_per_s_median"]! > 0);
        Assert.Equal(first["tokens_checksum"], second["tokens_checksum"]);
        Assert.Equal(2, second["threads"]);
        Assert.Contains("decode_step_ms_median", first.Fields.Select(f => f.Key));
    }
}
