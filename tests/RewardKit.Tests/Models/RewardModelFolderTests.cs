using RewardKit.Models;
using RewardKit.Tensors;

namespace RewardKit.Tests.Models;

public sealed class RewardModelFolderTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-folder-" + Guid.NewGuid().ToString("N"));
    static readonly GptConfig Config = new() { Layers = 1, EmbeddingSize = 8, Heads = 2, Positions = 8, VocabSize = 16, EosTokenId = 15 };

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void Save_then_load_gives_the_same_config_and_weights_and_a_sha256_version()
    {
        var model = GptRewardModel.Create(Config, seed: 3);
        var meta = RewardModelFolder.Save(model, Path.Combine(_dir, "m"));
        var (loaded, metadata) = RewardModelFolder.Load(Path.Combine(_dir, "m"));
        Assert.Equal(model.Config, loaded.Config);
        Assert.Equal(model.Parameters.Values.ToArray(), loaded.Parameters.Values.ToArray());
        Assert.Equal(64, metadata.Version.Length);
        Assert.Equal(meta.Version, metadata.Version);
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => d.Contains(".tmp-"));
    }

    [Fact]
    public void A_gpt2_lm_head_checkpoint_loads_its_backbone_and_reports_score_missing_and_lm_head_unexpected()
    {
        var source = GptRewardModel.Create(Config, seed: 5);
        var ckpt = Directory.CreateDirectory(Path.Combine(_dir, "lm")).FullName;
        File.WriteAllText(Path.Combine(ckpt, "config.json"), Config.ToJson());
        var tensors = source.Parameters.Entries.Where(e => e.Name != GptRewardModel.ScoreWeightName)
            .Select(e => (e.Name.Replace("transformer.", ""), e.Tensor.Shape, e.Tensor.ToArray())).ToList();  // GPT2Model names
        tensors.Add(("lm_head.weight", [16, 8], new float[128]));
        SafetensorsFile.Write(Path.Combine(ckpt, "model.safetensors"), tensors);

        var (model, report) = RewardModelFolder.InitializeFrom(ckpt, seed: 1);
        Assert.Equal([GptRewardModel.ScoreWeightName], report.Missing);
        Assert.Equal(["lm_head.weight"], report.Unexpected);
        Assert.Equal(source.Parameters.Entries.Count - 1, report.Loaded.Count);
        Assert.Equal(source.TokenEmbedding.ToArray(), model.TokenEmbedding.ToArray());
        Assert.Contains(model.ScoreWeight.ToArray(), v => v != 0);
    }

    [Fact]
    public void A_shape_mismatch_is_refused_naming_the_tensor()
    {
        var ckpt = Directory.CreateDirectory(Path.Combine(_dir, "bad")).FullName;
        File.WriteAllText(Path.Combine(ckpt, "config.json"), Config.ToJson());
        SafetensorsFile.Write(Path.Combine(ckpt, "model.safetensors"), [("h.0.attn.c_attn.weight", [24, 8], new float[192])]);
        var e = Assert.Throws<InvalidDataException>(() => RewardModelFolder.InitializeFrom(ckpt, seed: 1));
        Assert.Contains("h.0.attn.c_attn.weight", e.Message);
    }
}
