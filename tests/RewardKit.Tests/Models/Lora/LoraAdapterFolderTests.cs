using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.Lora;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Text;
using Engine = RewardKit.Tensors.Safetensors;

namespace RewardKit.Tests.Models.Lora;

public sealed class LoraAdapterFolderTests : IDisposable
{
    static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Models", "Fixtures");
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-lora-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>A full model folder (the fixture's base, saved by RewardKit) and the fixture's adapter saved over it.</summary>
    (string Base, string Adapter, LoraRewardModel Model, TokenBatch Batch) SaveFixture()
    {
        var basePath = Path.Combine(_dir, "base");
        var (baseModel, _) = RewardModelFolder.InitializeFrom(Path.Combine(Fixtures, "gpt2_tiny"), seed: 0);
        RewardModelFolder.Save(baseModel, basePath);
        var (model, _, batch) = LoraRewardModelTests.LoadFixture();
        var adapter = Path.Combine(_dir, "adapter");
        LoraAdapterFolder.Save(model, adapter, basePath, new RewardModelMetadata { Name = "adapter" });
        return (basePath, adapter, model, batch);
    }

    [Fact]
    public void The_adapter_folder_has_peft_config_fields_and_peft_tensor_names_and_shapes()
    {
        var (basePath, adapter, model, _) = SaveFixture();
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(adapter, "adapter_config.json"))).RootElement;
        Assert.Equal("LORA", config.GetProperty("peft_type").GetString());
        Assert.Equal("SEQ_CLS", config.GetProperty("task_type").GetString());
        Assert.Equal(4, config.GetProperty("r").GetInt32());
        Assert.Equal(8, config.GetProperty("lora_alpha").GetDouble());
        Assert.Equal(0, config.GetProperty("lora_dropout").GetDouble());
        Assert.True(config.GetProperty("fan_in_fan_out").GetBoolean());
        Assert.Equal(["score"], config.GetProperty("modules_to_save").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["c_attn", "c_proj", "c_fc"], config.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(Path.GetFullPath(basePath), config.GetProperty("base_model_name_or_path").GetString());

        var tensors = RewardKit.Tensors.Safetensors.SafetensorsFile.ReadAllFloats(Path.Combine(adapter, "adapter_model.safetensors"));
        Assert.Equal([4, 32], tensors["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"].Shape);
        Assert.Equal([96, 4], tensors["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"].Shape);
        Assert.Equal([1, 32], tensors["base_model.model.score.weight"].Shape);
        Assert.Equal(model.Parameters.Entries.Count, tensors.Count);

        var metadata = RewardModelMetadata.Load(adapter);
        Assert.Equal("concat", ModelArchitecture.Of(metadata));
        Assert.Equal("lora", ModelArchitecture.AdapterOf(metadata));
        Assert.Equal("concat", ModelArchitecture.Of(RewardModelMetadata.Load(basePath)));
        Assert.Null(ModelArchitecture.AdapterOf(RewardModelMetadata.Load(basePath)));
    }

    [Fact]
    public void An_adapter_loads_over_its_base_and_merged_or_not_gives_the_saved_rewards()
    {
        var (_, adapter, model, batch) = SaveFixture();
        var expected = model.Forward(new Tape { RecordsGradients = false }, batch).ToArray();

        var (loaded, _) = LoraAdapterFolder.Load(adapter);
        var (merged, _) = LoraAdapterFolder.LoadMerged(adapter);

        Assert.Equal(expected, loaded.Forward(new Tape { RecordsGradients = false }, batch).ToArray());
        var mergedRewards = merged.Forward(new Tape { RecordsGradients = false }, batch).ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.InRange(mergedRewards[i] - expected[i], -1e-5, 1e-5);
    }

    [Fact]
    public void The_pytorch_written_adapter_opens_over_its_relative_base_path()
    {
        var (_, json, batch) = LoraRewardModelTests.LoadFixture();
        var (settings, recordedBase) = LoraAdapterFolder.ReadConfig(Path.Combine(Fixtures, "lora_tiny_adapter"));
        Assert.Equal("../gpt2_tiny", recordedBase);
        Assert.Equal(2f, settings.Scaling);
        // The fixture folder has no rewardkit.json: copy it and its base side by side, add one, and open it by its recorded base path.
        var folder = Path.Combine(_dir, "fixtures", "lora_tiny_adapter");
        foreach (var name in new[] { "lora_tiny_adapter", "gpt2_tiny" })
        {
            Directory.CreateDirectory(Path.Combine(_dir, "fixtures", name));
            foreach (var file in Directory.GetFiles(Path.Combine(Fixtures, name))) File.Copy(file, Path.Combine(_dir, "fixtures", name, Path.GetFileName(file)));
        }
        var meta = new RewardModelMetadata { Name = "fixture" };
        ModelArchitecture.Set(meta, ModelArchitecture.Concat, ModelArchitecture.LoraAdapter);
        meta.Save(folder);

        var (model, _) = LoraAdapterFolder.Load(folder, verifyVersion: false);

        var rewards = model.Forward(new Tape { RecordsGradients = false }, batch).ToArray();
        var reference = json.GetProperty("rewards").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int i = 0; i < reference.Length; i++) Assert.InRange(rewards[i] - reference[i], -1e-4, 1e-4);
    }

    [Fact]
    public void An_adapter_opened_as_a_full_model_and_a_full_model_opened_as_an_adapter_are_refused_with_the_fix()
    {
        var (basePath, adapter, _, _) = SaveFixture();

        var asModel = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(adapter));
        Assert.Contains("LoRA adapter", asModel.Message);
        Assert.Contains("merge-lora", asModel.Message);

        var asAdapter = Assert.Throws<FileNotFoundException>(() => LoraAdapterFolder.Load(basePath));
        Assert.Contains("adapter_config.json", asAdapter.Message);
    }

    [Fact]
    public void A_folder_of_another_architecture_is_refused_naming_what_it_holds()
    {
        var (basePath, _, _, _) = SaveFixture();
        var meta = RewardModelMetadata.Load(basePath);
        ModelArchitecture.Set(meta, "cross-attention");
        meta.Save(basePath);

        var e = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(basePath));

        Assert.Contains("'cross-attention'", e.Message);
        Assert.Contains("rewardkit.json", e.Message);
    }

    [Fact]
    public void A_changed_base_is_refused_unless_the_version_check_is_skipped()
    {
        var (basePath, adapter, _, _) = SaveFixture();
        var (other, _) = RewardModelFolder.InitializeFrom(Path.Combine(Fixtures, "gpt2_tiny"), seed: 0);
        other.Parameters.Values[0] += 1;
        RewardModelFolder.Save(other, basePath);

        var e = Assert.Throws<InvalidDataException>(() => LoraAdapterFolder.Load(adapter));
        Assert.Contains("base_model_sha256", e.Message);
        Assert.Contains("--skip-version-check", e.Message);
        _ = LoraAdapterFolder.Load(adapter, verifyVersion: false);
    }

    [Fact]
    public void A_missing_adapter_tensor_is_refused_naming_it()
    {
        var (_, adapter, model, _) = SaveFixture();
        var weights = Path.Combine(adapter, LoraAdapterFolder.WeightsFileName);
        Engine.SafetensorsWriter.Write(weights, model.Parameters.Entries.Where(e => !e.Name.Contains("h.1.mlp.c_fc.lora_B")).Select(e => (e.Name, e.Tensor)));

        var e = Assert.Throws<InvalidDataException>(() => LoraAdapterFolder.Load(adapter, verifyVersion: false));

        Assert.Contains("h.1.mlp.c_fc.lora_B.weight", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void The_one_loader_scores_an_adapter_folder_as_its_merged_model()
    {
        var (basePath, adapter, model, _) = SaveFixture();
        // The scorer needs a tokenizer: the base's files are copied in as training does.
        var tokenizer = BpeTrainer.Train(["a tiny corpus for a tokenizer", "the scorer needs one"], new BpeTrainerOptions { VocabSize = 260, MinFrequency = 1 });
        LoraAdapterFolder.Save(model, adapter, basePath, new RewardModelMetadata { Name = "adapter", MaxLength = 16 }, writeExtra: tokenizer.Save);
        using var scorer = ModelLoading.Load(adapter);
        int[] ids = [5, 17, 42, 8];
        var rewards = new float[1];
        scorer.ScoreTokens([ids], rewards);
        var expected = model.Forward(new Tape { RecordsGradients = false }, TokenBatch.FromSequences([ids], 0)).ToArray();
        Assert.InRange(rewards[0] - expected[0], -1e-5, 1e-5);
        Assert.Equal("lora", ModelArchitecture.AdapterOf(scorer.Metadata));
    }
}
