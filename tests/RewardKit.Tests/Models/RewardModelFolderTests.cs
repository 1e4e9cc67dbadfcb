using RewardKit.IO;
using RewardKit.Models;
using RewardKit.Tensors.Safetensors;
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
        SafetensorsWriter.Write(Path.Combine(ckpt, "model.safetensors"), tensors);

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
        SafetensorsWriter.Write(Path.Combine(ckpt, "model.safetensors"), [("h.0.attn.c_attn.weight", [24, 8], new float[192])]);
        var e = Assert.Throws<InvalidDataException>(() => RewardModelFolder.InitializeFrom(ckpt, seed: 1));
        Assert.Contains("h.0.attn.c_attn.weight", e.Message);
    }

    string SavedFolder(string name, ulong seed = 3)
    {
        var folder = Path.Combine(_dir, name);
        RewardModelFolder.Save(GptRewardModel.Create(Config, seed), folder);
        return folder;
    }

    /// <summary>Rewrites one float of a tensor in place (the header is kept, so the file stays valid safetensors).</summary>
    static void Poke(string folder, string tensor, int index, float value)
    {
        var path = Path.Combine(folder, RewardModelFolder.WeightsFileName);
        long offset;
        using (var file = SafetensorsFile.Open(path))
            offset = new FileInfo(path).Length - file.Names.Select(n => file[n]).Max(e => e.End) + file[tensor].Begin + 4L * index;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.Position = offset;
        stream.Write(BitConverter.GetBytes(value));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void A_non_finite_weight_is_refused_on_load_naming_the_tensor_and_index(float value)
    {
        var folder = SavedFolder("nan");
        Poke(folder, "transformer.h.0.mlp.c_fc.weight", 5, value);
        var e = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(folder, verifyVersion: false));
        Assert.Contains("'transformer.h.0.mlp.c_fc.weight'", e.Message);
        Assert.Contains("at index 5", e.Message);
        Assert.Contains(Path.Combine(folder, RewardModelFolder.WeightsFileName), e.Message);
    }

    [Fact]
    public void Weights_changed_after_saving_are_refused_naming_both_hashes_unless_the_check_is_skipped()
    {
        var folder = SavedFolder("edited");
        var recorded = RewardKit.IO.RewardModelMetadata.Load(folder).Version;
        Poke(folder, GptRewardModel.ScoreWeightName, 0, 0.125f);
        var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, RewardModelFolder.WeightsFileName))));

        var e = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(folder));
        Assert.Contains(recorded, e.Message);
        Assert.Contains(actual, e.Message);
        Assert.Contains("--skip-version-check", e.Message);

        var (model, _) = RewardModelFolder.Load(folder, verifyVersion: false);   // the explicit override
        Assert.Equal(0.125f, model.ScoreWeight.ToArray()[0]);
    }

    [Fact]
    public void A_folder_whose_rewardkit_json_has_no_version_is_refused_unless_the_check_is_skipped()
    {
        var folder = SavedFolder("unversioned");
        var path = Path.Combine(folder, RewardKit.IO.RewardModelMetadata.FileName);
        File.WriteAllText(path, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(path), "\"version\": \"[0-9a-f]+\"", "\"version\": \"\""));
        Assert.Contains("no 'version'", Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(folder)).Message);
        _ = RewardModelFolder.Load(folder, verifyVersion: false);
    }

    [Fact]
    public void A_config_json_whose_sizes_disagree_with_the_weights_is_refused_by_key_before_allocating()
    {
        foreach (var (key, value) in new[] { ("vocab_size", 2_000_000), ("n_positions", 4096), ("n_layer", 3), ("n_embd", 16) })
        {
            var folder = SavedFolder("sizes-" + key);
            var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, GptConfig.FileName)))!;
            config[key] = value;
            if (key == "n_positions") config["n_ctx"] = value;
            File.WriteAllText(Path.Combine(folder, GptConfig.FileName), config.ToJsonString());
            var e = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(folder));
            Assert.Contains(Path.Combine(folder, GptConfig.FileName), e.Message);
            Assert.Contains($"{key} is {value}", e.Message);
        }
    }

    [Fact]
    public void A_weights_file_that_cannot_be_read_is_a_data_error_naming_it()
    {
        if (OperatingSystem.IsWindows()) return; // symbolic links need privileges there
        var loop = SavedFolder("loop");
        var weights = Path.Combine(loop, RewardModelFolder.WeightsFileName);
        File.Delete(weights);
        File.CreateSymbolicLink(weights, RewardModelFolder.WeightsFileName);   // points at itself
        var e = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(loop, verifyVersion: false));
        Assert.StartsWith(weights + ": cannot be read", e.Message);
        Assert.Contains(weights, Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(loop)).Message); // the version check reads it too

        var directory = SavedFolder("dir");
        weights = Path.Combine(directory, RewardModelFolder.WeightsFileName);
        File.Delete(weights);
        Directory.CreateDirectory(weights);
        Assert.StartsWith(weights, Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(directory)).Message);

        var config = SavedFolder("config-loop");
        var configPath = Path.Combine(config, GptConfig.FileName);
        File.Delete(configPath);
        File.CreateSymbolicLink(configPath, GptConfig.FileName);
        Assert.StartsWith(configPath, Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(config)).Message);
    }
}
