using RewardKit.Inference;
using RewardKit.Models;

namespace RewardKit.Tests.Inference;

public sealed class GptModelLoaderTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-loader-" + Guid.NewGuid().ToString("N"));
    static readonly GptConfig Config = new() { Layers = 1, EmbeddingSize = 8, Heads = 2, Positions = 8, VocabSize = 16, EosTokenId = 15 };

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void A_mean_pooled_model_is_refused_for_scoring_with_a_message_naming_the_folder_and_the_fix()
    {
        var model = GptRewardModel.Create(Config, seed: 1, RewardPooling.MeanResponse);
        var folder = Path.Combine(_dir, "mean");
        RewardModelFolder.Save(model, folder);
        Assert.Equal(RewardPooling.MeanResponse, RewardModelFolder.Load(folder).Model.Pooling);   // the folder keeps its pooling

        var e = Assert.Throws<InvalidDataException>(() => GptModelLoader.Load(folder));

        Assert.Contains(folder, e.Message);
        Assert.Contains("mean_response", e.Message);
        Assert.Contains("last-token pooling", e.Message);
    }
}
