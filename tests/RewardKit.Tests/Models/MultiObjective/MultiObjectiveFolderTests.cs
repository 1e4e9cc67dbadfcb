using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models.MultiObjective;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Text;

namespace RewardKit.Tests.Models.MultiObjective;

public sealed class MultiObjectiveFolderTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-multi-" + Guid.NewGuid().ToString("N"));
    static readonly RewardObjectives Objectives = RewardObjectives.Parse("helpfulness,harmlessness,honesty", "1,0.5,2");

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    (string Folder, GptRewardModel Model) Save()
    {
        var tokenizer = BpeTrainer.Train(["a tiny corpus for a tokenizer", "the scorer needs one"], new BpeTrainerOptions { VocabSize = 260, MinFrequency = 1 });
        var config = new GptConfig { Layers = 1, EmbeddingSize = 16, Heads = 2, Positions = 32, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var model = new GptRewardModel(config, outputs: 3);
        model.Initialize(new Rng(4));
        var folder = Path.Combine(_dir, "model");
        MultiObjectiveFolder.Save(model, Objectives, folder, new RewardModelMetadata { Name = "multi", MaxLength = 32 }, writeExtra: tokenizer.Save);
        return (folder, model);
    }

    [Fact]
    public void The_folder_has_k_labels_named_after_the_objectives_and_says_it_is_multi_objective()
    {
        var (folder, _) = Save();
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json"))).RootElement;
        Assert.Equal(3, config.GetProperty("num_labels").GetInt32());
        Assert.Equal("harmlessness", config.GetProperty("id2label").GetProperty("1").GetString());
        Assert.Equal(2, config.GetProperty("label2id").GetProperty("honesty").GetInt32());
        var metadata = RewardModelMetadata.Load(folder);
        Assert.Equal("multi-objective", ModelArchitecture.Of(metadata));
        Assert.Equal(Objectives.Names, RewardObjectives.FromMetadata(metadata)!.Names);
        Assert.Equal([1, 0.5, 2], RewardObjectives.FromMetadata(metadata)!.Weights);
        Assert.Equal([3, 16], RewardKit.Tensors.Safetensors.SafetensorsFile.ReadAllFloats(Path.Combine(folder, "model.safetensors"))["score.weight"].Shape);
    }

    [Fact]
    public void The_one_loader_gives_each_objective_and_their_weighted_sum_which_a_per_call_override_changes()
    {
        var (folder, model) = Save();
        using var loaded = ModelLoading.Load(folder);
        var heads = Assert.IsAssignableFrom<IObjectiveRewardModel>(loaded);
        int[] ids = [5, 17, 42, 8, 9];
        var perObjective = new float[3];
        heads.ScoreObjectives([ids], perObjective);
        var expected = model.ForwardOutputs(new Tape { RecordsGradients = false }, TokenBatch.FromSequences([ids], 0)).ToArray();
        Assert.Equal(expected, perObjective);

        var combined = new float[1];
        loaded.ScoreTokens([ids], combined);
        Assert.Equal(1 * perObjective[0] + 0.5 * perObjective[1] + 2 * perObjective[2], combined[0], 5);
        heads.WithWeights([0, 1, 0]).ScoreTokens([ids], combined);
        Assert.Equal(perObjective[1], combined[0], 6);
    }

    [Fact]
    public void A_multi_objective_folder_opened_as_a_single_head_model_is_refused_naming_what_it_is()
    {
        var (folder, _) = Save();

        var e = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(folder));

        Assert.Contains("'multi-objective'", e.Message);
        Assert.Contains("rewardkit.json", e.Message);
    }

    [Fact]
    public void Objectives_and_weights_that_do_not_match_are_refused_naming_the_option()
    {
        var e = Assert.Throws<ArgumentException>(() => RewardObjectives.Parse("helpfulness,harmlessness", "1,1,1"));
        Assert.Contains("'objective_weights'", e.Message);
        var single = Assert.Throws<ArgumentException>(() => RewardObjectives.Parse("helpfulness"));
        Assert.Contains("'objectives'", single.Message);
        var notNumber = Assert.Throws<ArgumentException>(() => RewardObjectives.Parse("a,b", "1,x"));
        Assert.Contains("'x'", notNumber.Message);
    }
}
