using RewardKit.Generation;

namespace RewardKit.Tests.Generation;

public sealed class PolicyTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-policy-bundle-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void A_prompt_is_the_templates_text_before_the_response_and_a_long_one_keeps_its_end()
    {
        var policy = PolicyTestData.Create();
        var ids = policy.EncodePrompt("Tell me about rain.", 100, out bool truncated);
        Assert.False(truncated);
        Assert.Equal("Human: Tell me about rain.\n\nAssistant:", policy.Tokenizer.Decode(ids));
        var cut = policy.EncodePrompt("Tell me about rain.", 3, out truncated);
        Assert.True(truncated);
        Assert.Equal(ids[^3..], cut);
    }

    [Fact]
    public void A_response_is_decoded_without_the_final_eos_and_the_templates_separator()
    {
        var policy = PolicyTestData.Create();
        var tokens = policy.Tokenizer.Encode(" Sure, rain.");
        Assert.Equal("Sure, rain.", policy.DecodeResponse([.. tokens, policy.Tokenizer.EndOfTextId]));
        Assert.Equal("Sure, rain.", policy.DecodeResponse(tokens));
        var hh = PolicyTestData.Create(template: "hh");
        Assert.Equal(" Sure, rain.", hh.DecodeResponse(tokens));
    }

    [Fact]
    public void A_policy_from_scratch_takes_the_presets_shape_sized_for_its_tokenizer()
    {
        var tokenizer = PolicyTestData.Create().Tokenizer;
        var policy = Policy.Create("tiny", tokenizer, Text.PromptTemplate.Plain, seed: 2, positions: 64);
        Assert.Equal((2, 128, tokenizer.VocabSize, 64), (policy.Model.Config.Layers, policy.Model.Config.EmbeddingSize, policy.Model.Config.VocabSize, policy.Model.Config.Positions));
        Assert.Equal(tokenizer.EndOfTextId, policy.Model.Config.EosTokenId);
        Assert.Equal(Policy.Create("tiny", tokenizer, Text.PromptTemplate.Plain, seed: 2, positions: 64).Model.Parameters.Values.ToArray(), policy.Model.Parameters.Values.ToArray());
    }

    [Fact]
    public void Save_then_load_keeps_the_model_the_tokenizer_and_the_template()
    {
        var policy = PolicyTestData.Create(template: "hh");
        policy.Save(_dir);
        var loaded = Policy.Load(_dir);
        Assert.Equal("hh", loaded.Template.Name);
        Assert.Equal(policy.Tokenizer.VocabSize, loaded.Tokenizer.VocabSize);
        Assert.Equal(policy.Model.Parameters.Values.ToArray(), loaded.Model.Parameters.Values.ToArray());
        Assert.Equal("plain", Policy.Load(_dir, template: "plain").Template.Name);
    }
}
