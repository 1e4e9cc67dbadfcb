using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Tensors.Safetensors;

namespace RewardKit.Tests.Models;

public sealed class PolicyFolderTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-policy-" + Guid.NewGuid().ToString("N"));
    static readonly GptConfig Config = new() { Layers = 1, EmbeddingSize = 8, Heads = 2, Positions = 8, VocabSize = 16, EosTokenId = 15 };

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void Save_then_load_gives_the_same_model_in_a_gpt2_lm_head_model_folder_without_an_lm_head_tensor()
    {
        var model = GptLanguageModel.Create(Config, seed: 3);
        var folder = Path.Combine(_dir, "p");
        var meta = PolicyFolder.Save(model, folder, new RewardModelMetadata { Template = "hh", MaxLength = 8 });
        var (loaded, metadata) = PolicyFolder.Load(folder);
        Assert.Equal(model.Config, loaded.Config);
        Assert.Equal(model.Parameters.Values.ToArray(), loaded.Parameters.Values.ToArray());
        Assert.Equal("hh", metadata.Template);
        Assert.Equal(meta.Version, metadata.Version);
        Assert.Equal(64, metadata.Version.Length);

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json")));
        Assert.Equal("GPT2LMHeadModel", config.RootElement.GetProperty("architectures")[0].GetString());
        Assert.True(config.RootElement.GetProperty("tie_word_embeddings").GetBoolean());
        Assert.False(config.RootElement.TryGetProperty("num_labels", out _));
        var names = SafetensorsFile.ReadAllFloats(Path.Combine(folder, "model.safetensors")).Keys;
        Assert.DoesNotContain("lm_head.weight", names);
        Assert.Contains("transformer.wte.weight", names);
        Assert.All(names, n => Assert.StartsWith("transformer.", n));
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => d.Contains(".tmp-"));
    }

    [Fact]
    public void A_reward_model_folder_is_refused_as_a_policy_with_the_fix_but_starts_one_from_its_backbone()
    {
        var reward = GptRewardModel.Create(Config, seed: 4);
        var folder = Path.Combine(_dir, "rm");
        RewardModelFolder.Save(reward, folder);
        var e = Assert.Throws<InvalidDataException>(() => PolicyFolder.Load(folder));
        Assert.Contains(folder, e.Message);
        Assert.Contains("reward model", e.Message);
        Assert.Contains("sft --init", e.Message);

        var (policy, report) = PolicyFolder.InitializeFrom(folder);
        Assert.Equal([GptRewardModel.ScoreWeightName], report.Unexpected);
        Assert.Empty(report.Missing);
        foreach (var entry in policy.Parameters.Entries) Assert.Equal(reward.Parameters[entry.Name].ToArray(), entry.Tensor.ToArray());
    }

    [Fact]
    public void A_policy_folder_is_refused_as_a_reward_model_naming_the_folder()
    {
        var folder = Path.Combine(_dir, "p");
        PolicyFolder.Save(GptLanguageModel.Create(Config, seed: 3), folder);
        var e = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(folder));
        Assert.Contains(folder, e.Message);
        Assert.Contains("policy", e.Message);
    }

    [Fact]
    public void A_hugging_face_checkpoint_with_a_tied_lm_head_loads_and_an_untied_one_is_refused()
    {
        var source = GptLanguageModel.Create(Config, seed: 6);
        string Checkpoint(string name, bool tied)
        {
            var folder = Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;
            File.WriteAllText(Path.Combine(folder, "config.json"), Config.ToJson(GptConfig.LanguageModel));
            var tensors = source.Parameters.Entries.Select(e => (e.Name.Replace("transformer.", ""), e.Tensor.Shape, e.Tensor.ToArray())).ToList();  // GPT2Model names
            var head = source.TokenEmbedding.ToArray();
            if (!tied) head[0] += 1f;
            tensors.Add(("lm_head.weight", source.TokenEmbedding.Shape, head));
            SafetensorsWriter.Write(Path.Combine(folder, "model.safetensors"), tensors);
            return folder;
        }
        var (loaded, metadata) = PolicyFolder.Load(Checkpoint("tied", tied: true));
        Assert.Equal(source.Parameters.Values.ToArray(), loaded.Parameters.Values.ToArray());
        Assert.Equal("tied", metadata.Name);   // no rewardkit.json: defaults
        var e = Assert.Throws<InvalidDataException>(() => PolicyFolder.Load(Checkpoint("untied", tied: false)));
        Assert.Contains("lm_head.weight differs", e.Message);
    }

    [Fact]
    public void A_missing_folder_or_missing_tensors_name_the_path_and_the_fix()
    {
        var missing = Path.Combine(_dir, "nope");
        var e = Assert.Throws<DirectoryNotFoundException>(() => PolicyFolder.Load(missing));
        Assert.Contains(missing, e.Message);
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "partial")).FullName;
        File.WriteAllText(Path.Combine(folder, "config.json"), Config.ToJson(GptConfig.LanguageModel));
        SafetensorsWriter.Write(Path.Combine(folder, "model.safetensors"), [("transformer.wte.weight", [16, 8], new float[128])]);
        var m = Assert.Throws<InvalidDataException>(() => PolicyFolder.Load(folder));
        Assert.Contains("missing tensors", m.Message);
        Assert.Contains("transformer.wpe.weight", m.Message);
    }
}
