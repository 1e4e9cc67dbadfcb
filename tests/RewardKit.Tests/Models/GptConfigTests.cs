using RewardKit.Models;

namespace RewardKit.Tests.Models;

public class GptConfigTests
{
    [Fact]
    public void Config_json_round_trips_with_hugging_face_keys()
    {
        var config = GptConfig.Tiny(1000, eosTokenId: 999, padTokenId: 0);
        var json = config.ToJson();
        Assert.Contains("\"GPT2ForSequenceClassification\"", json);
        Assert.Contains("\"gelu_new\"", json);
        Assert.Contains("\"num_labels\": 1", json);
        Assert.Equal(config, GptConfig.FromJson(json));
    }

    [Fact]
    public void The_fixture_config_written_by_pytorch_script_is_read()
    {
        var config = GptConfig.Load(Path.Combine(AppContext.BaseDirectory, "Models", "Fixtures", "gpt2_tiny"));
        Assert.Equal((2, 32, 2, 16, 64, 63), (config.Layers, config.EmbeddingSize, config.Heads, config.Positions, config.VocabSize, config.PadTokenId));
    }

    [Theory]
    [InlineData("{\"activation_function\": \"relu\"}", "activation_function")]
    [InlineData("{\"num_labels\": 2}", "num_labels")]
    [InlineData("{\"n_embd\": 30, \"n_head\": 4}", "n_head")]
    [InlineData("{\"model_type\": \"llama\"}", "model_type")]
    [InlineData("{\"vocab_size\": 2147483647}", "vocab_size")] // more parameters than one buffer holds: refused before any allocation
    [InlineData("{\"n_positions\": 2147483647, \"n_embd\": 8, \"n_head\": 1}", "n_positions")]
    [InlineData("{\"n_layer\": 100000}", "n_layer")]
    public void Unsupported_configs_are_refused_naming_the_key(string json, string key)
    {
        var e = Assert.Throws<InvalidDataException>(() => GptConfig.FromJson(json, "x/config.json"));
        Assert.Contains(key, e.Message);
        Assert.Contains("x/config.json", e.Message);
    }

    [Fact]
    public void Tiny_preset_initialises_its_weights_at_its_own_range_and_records_it_in_config_json()
    {
        var config = GptConfig.Tiny(500);
        Assert.Equal(0.06f, config.InitializerRange);
        Assert.Equal(0.06f, GptConfig.FromJson(config.ToJson()).InitializerRange);
        Assert.Equal(0.02f, GptConfig.Base().InitializerRange);
        var model = GptRewardModel.Create(config, seed: 3);
        static double Std(ReadOnlySpan<float> x)
        {
            double sum = 0, sq = 0;
            foreach (var v in x) { sum += v; sq += (double)v * v; }
            return Math.Sqrt(sq / x.Length - sum / x.Length * (sum / x.Length));
        }
        Assert.InRange(Std(model.Parameters["transformer.h.0.attn.c_attn.weight"].Data), 0.057, 0.063);
        Assert.InRange(Std(model.Parameters["transformer.wte.weight"].Data), 0.057, 0.063);
        Assert.InRange(Std(model.Parameters["transformer.h.1.mlp.c_proj.weight"].Data), 0.0285, 0.0315); // 0.06 / sqrt(2 layers · 2)
    }

    [Fact]
    public void Base_preset_is_gpt2_124m() =>
        Assert.Equal((12, 768, 12, 1024, 50257), (GptConfig.Base().Layers, GptConfig.Base().EmbeddingSize, GptConfig.Base().Heads, GptConfig.Base().Positions, GptConfig.Base().VocabSize));
}
