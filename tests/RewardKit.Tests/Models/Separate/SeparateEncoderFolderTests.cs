using RewardKit.Inference;
using RewardKit.IO;
using RewardKit.Models;
using RewardKit.Models.Separate;
using RewardKit.Text;

namespace RewardKit.Tests.Models.Separate;

public sealed class SeparateEncoderFolderTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-separate-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    static readonly string[] Responses = ["Sure, here it is.", "No.", "Go away.", "Here is a long and careful answer."];

    string SavedModel()
    {
        var tokenizer = BpeTrainer.Train([.. Responses, "Tell me about eggs.", "Human", "Assistant"], new BpeTrainerOptions { VocabSize = 300, MinFrequency = 1 });
        var config = new GptConfig { Layers = 2, EmbeddingSize = 16, Heads = 2, Positions = 64, VocabSize = tokenizer.VocabSize, EosTokenId = tokenizer.EndOfTextId }.WithoutDropout();
        var folder = Path.Combine(_dir, "model");
        SeparateEncoderFolder.Save(SeparateEncoderRewardModel.Create(config, seed: 11), folder, new RewardModelMetadata { Template = "plain", MaxLength = 64 }, writeExtra: tokenizer.Save);
        return folder;
    }

    [Fact]
    public void A_saved_folder_says_separate_and_loads_through_the_one_loader_with_the_same_weights()
    {
        var folder = SavedModel();

        Assert.Equal(ModelArchitecture.Separate, ModelArchitecture.Of(RewardModelMetadata.Load(folder)));
        using var loaded = ModelLoading.Load(folder);
        var scorer = Assert.IsType<SeparateEncoderScorer>(loaded);
        var rewards = new RewardScorer(scorer).Score([.. Responses.Select(r => new ScoringItem("Tell me about eggs.", r))]);
        Assert.Equal(Responses.Length, rewards.Select(s => s.Raw).Distinct().Count());
    }

    [Fact]
    public void Opening_a_separate_folder_as_a_concat_model_is_refused_saying_what_it_holds()
    {
        var folder = SavedModel();

        var e = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(folder));

        Assert.Contains("'separate'", e.Message);
        Assert.Contains("'concat'", e.Message);
    }

    [Fact]
    public void The_prompt_is_encoded_once_for_n_responses_and_the_rewards_equal_encoding_it_per_response()
    {
        var folder = SavedModel();
        var (model, metadata) = SeparateEncoderFolder.Load(folder);
        var sequences = new SequenceEncoder(ByteLevelBpeTokenizer.FromDirectory(folder), new SequenceOptions { MaxLength = 64 }, PromptTemplate.Plain);
        using var cached = new SeparateEncoderScorer(model, metadata, sequences);
        using var uncached = new SeparateEncoderScorer(model, metadata, sequences) { CachePrompts = false };
        float[] Score(SeparateEncoderScorer s)
        {
            var ids = Responses.Select(r => s.Encode("Tell me about eggs.", r)).ToArray();
            var rewards = new float[ids.Length];
            s.ScoreTokens(ids, rewards);
            return rewards;
        }

        var withCache = Score(cached);
        var without = Score(uncached);
        var again = Score(cached);

        Assert.Equal(1, cached.PromptsEncoded);   // one prompt pass in the first call, none in the second (cached across calls)
        Assert.Equal(Responses.Length, uncached.PromptsEncoded);
        for (int i = 0; i < Responses.Length; i++)
        {
            Assert.Equal(without[i], withCache[i], 1e-5);
            Assert.Equal(withCache[i], again[i]);
        }
    }

    [Fact]
    public void Token_ids_not_made_by_the_scorers_encode_are_refused_with_the_reason()
    {
        using var loaded = ModelLoading.Load(SavedModel());

        var e = Assert.Throws<InvalidOperationException>(() => loaded.ScoreTokens([[1, 2, 3]], new float[1]));

        Assert.Contains("where each response starts", e.Message);
    }
}
