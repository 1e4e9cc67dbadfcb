using System.Text.Json;
using RewardKit.Models;
using RewardKit.Models.Lora;
using RewardKit.Tensors;
using RewardKit.Training.Losses;

namespace RewardKit.Tests.Models.Lora;

/// <summary>Checks the LoRA model against tools/lora_fixtures.py (PyTorch, float64, PEFT's LoRA written out by hand).</summary>
public class LoraRewardModelTests
{
    static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Models", "Fixtures");

    internal static (LoraRewardModel Model, JsonElement Json, TokenBatch Batch) LoadFixture()
    {
        var (baseModel, _) = RewardModelFolder.InitializeFrom(Path.Combine(Fixtures, "gpt2_tiny"), seed: 0);
        var adapter = Path.Combine(Fixtures, "lora_tiny_adapter");
        var (settings, _) = LoraAdapterFolder.ReadConfig(adapter);
        var model = new LoraRewardModel(baseModel, settings);
        LoraAdapterFolder.LoadTensors(model, Path.Combine(adapter, LoraAdapterFolder.WeightsFileName));
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "lora_tiny_parity.json"))).RootElement;
        int[] Ints(string name) => json.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var lengths = Ints("lengths");
        return (model, json, new TokenBatch(Ints("ids"), lengths.Length, json.GetProperty("time").GetInt32(), lengths));
    }

    static double[] Doubles(JsonElement json, string name) => json.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();

    [Fact]
    public void Rewards_loss_and_every_adapter_gradient_match_the_pytorch_lora_reference()
    {
        var (model, json, batch) = LoadFixture();
        int pairs = json.GetProperty("pairs").GetInt32();
        var tape = new Tape();
        var rewards = model.Forward(tape, batch);
        var expected = Doubles(json, "rewards");
        for (int i = 0; i < expected.Length; i++) Assert.InRange(rewards[i] - expected[i], -1e-4, 1e-4);

        var loss = BradleyTerry.Loss(tape, rewards.Slice(0, pairs), rewards.Slice(pairs, pairs));
        Assert.InRange(loss.ToScalar() - json.GetProperty("loss").GetDouble(), -1e-4, 1e-4);
        model.Parameters.ZeroGrad();
        tape.Backward(loss);

        var expectedGrads = RewardKit.Tensors.Safetensors.SafetensorsFile.ReadAllFloats(Path.Combine(Fixtures, "lora_tiny_grads.safetensors"));
        Assert.Equal(model.Parameters.Entries.Select(e => e.Name).Order(), expectedGrads.Keys.Order());
        foreach (var (name, (_, grad)) in expectedGrads)
        {
            var actual = model.Parameters[name].Grad;
            double scale = Math.Max(grad.Max(MathF.Abs), 1e-6), worst = 0;
            for (int i = 0; i < grad.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - grad[i]) / scale);
            Assert.True(worst <= 1e-4, $"{name}: gradient differs from PyTorch by {worst:E2} of its largest entry.");
        }
    }

    [Fact]
    public void The_merged_model_gives_the_adapted_rewards_within_1e_5()
    {
        var (model, json, batch) = LoadFixture();
        var unmerged = model.Forward(new Tape { RecordsGradients = false }, batch).ToArray();
        var merged = model.Merge().Forward(new Tape { RecordsGradients = false }, batch).ToArray();
        var reference = Doubles(json, "merged_rewards");
        for (int i = 0; i < unmerged.Length; i++)
        {
            Assert.InRange(merged[i] - unmerged[i], -1e-5, 1e-5);
            Assert.InRange(merged[i] - reference[i], -1e-4, 1e-4);
        }
        var baseRewards = Doubles(json, "base_rewards");
        Assert.True(Math.Abs(unmerged[0] - baseRewards[0]) > 1e-2, "the fixture's adapter changes the rewards");
    }

    [Fact]
    public void The_base_is_frozen_and_takes_no_gradient_while_the_adapters_and_head_do()
    {
        var (model, _, batch) = LoadFixture();
        var tape = new Tape();
        var rewards = model.Forward(tape, batch);
        tape.Backward(tape.Sum(rewards));

        Assert.True(model.Base.Parameters.IsFrozen);
        Assert.Equal(0, model.Base.Parameters.Gradients.Length);
        Assert.All(model.Base.Parameters.Entries, e => Assert.False(e.Tensor.RequiresGrad));
        Assert.All(model.Parameters.Entries, e => Assert.Contains(e.Tensor.Grad.ToArray(), g => g != 0));
    }

    [Fact]
    public void A_fresh_adapter_starts_as_its_base_because_lora_b_is_zero()
    {
        var (baseModel, _) = RewardModelFolder.InitializeFrom(Path.Combine(Fixtures, "gpt2_tiny"), seed: 0);
        var (_, _, batch) = LoadFixture();
        var before = baseModel.Forward(new Tape { RecordsGradients = false }, batch).ToArray();
        var model = new LoraRewardModel(baseModel, new LoraSettings { Rank = 2, Targets = ["c_attn"] });
        model.Initialize(new Rng(3));

        var after = model.Forward(new Tape { RecordsGradients = false }, batch).ToArray();

        Assert.Equal(before, after);
        Assert.Equal(2, model.Layers.Count);   // c_attn of each of the two blocks
        Assert.All(model.Layers, l => Assert.Contains(l.A.ToArray(), a => a != 0));
    }

    [Fact]
    public void Targets_match_layers_by_name_suffix_and_an_unknown_target_is_refused_naming_the_option()
    {
        var (baseModel, _) = RewardModelFolder.InitializeFrom(Path.Combine(Fixtures, "gpt2_tiny"), seed: 0);
        var model = new LoraRewardModel(baseModel, new LoraSettings { Rank = 2, Targets = ["c_proj"] });
        Assert.Equal(["transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_proj", "transformer.h.1.attn.c_proj", "transformer.h.1.mlp.c_proj"],
            model.Layers.Select(l => l.Module));
        Assert.Equal([2, 32], model.Parameters["base_model.model.transformer.h.0.attn.c_proj.lora_A.weight"].Shape);
        Assert.Equal([32, 2], model.Parameters["base_model.model.transformer.h.0.mlp.c_proj.lora_B.weight"].Shape);
        Assert.Equal([2, 128], model.Parameters["base_model.model.transformer.h.0.mlp.c_proj.lora_A.weight"].Shape);

        var e = Assert.Throws<ArgumentException>(() => LoraSettings.ParseTargets("c_attn,q_proj"));
        Assert.Contains("'lora_targets'", e.Message);
        Assert.Contains("q_proj", e.Message);
    }

    [Fact]
    public void Adapter_dropout_changes_training_rewards_but_not_inference_rewards()
    {
        var (fixture, _, batch) = LoadFixture();
        var model = new LoraRewardModel(fixture.Base, fixture.Settings with { Dropout = 0.5f });
        fixture.Parameters.Values.CopyTo(model.Parameters.Values);
        var inference = fixture.Forward(new Tape { RecordsGradients = false }, batch).ToArray();

        Assert.Equal(inference, model.Forward(new Tape { RecordsGradients = false }, batch).ToArray());
        Assert.NotEqual(inference, model.Forward(new Tape(), batch, training: true, new Rng(1)).ToArray());
    }
}
