using RewardKit.Models;
using RewardKit.Models.Bert;
using RewardKit.Tensors;
using RewardKit.Tensors.Tests;

namespace RewardKit.Tests.Models.Bert;

public class BertRewardModelTests
{
    static readonly BertConfig Tiny = new()
    {
        VocabSize = 40, HiddenSize = 8, Layers = 2, Heads = 2, IntermediateSize = 12, MaxPositions = 10, SepTokenId = 3,
        HiddenDropout = 0, AttentionDropout = 0,
    };

    static TokenBatch Batch() => TokenBatch.FromSequences([[2, 5, 6, 3, 7, 8, 3], [2, 9, 3, 10, 3]]);

    [Theory]
    [InlineData(BertPooling.Cls)]
    [InlineData(BertPooling.Mean)]
    public void Gradients_of_every_kind_of_parameter_match_central_differences(BertPooling pooling)
    {
        var model = new BertRewardModel(Tiny, pooling);
        model.Initialize(new Rng(3));
        foreach (var e in model.Parameters.Entries) new Rng(7).FillNormal(e.Tensor.Data, e.Name.Contains("LayerNorm.weight") ? 1 : 0, 0.3f);
        var layer = model.Layers[1];
        Tensor[] checkedParameters =
        [
            model.WordEmbeddings.Slice(5, 2), model.TokenTypeEmbeddings, model.EmbeddingNormWeight, layer.QueryWeight, layer.KeyBias,
            layer.ValueWeight, layer.AttentionNormBias, layer.IntermediateWeight, layer.OutputWeight, model.ClassifierWeight,
            .. pooling == BertPooling.Cls ? new[] { model.PoolerWeight } : [],
        ];
        GradCheck.Check((t, _) => model.Forward(t, Batch()), checkedParameters, eps: 1e-2, tolerance: 2e-3);
    }

    [Fact]
    public void Padding_does_not_change_a_rows_reward()
    {
        var model = new BertRewardModel(Tiny);
        model.Initialize(new Rng(5));
        var tape = new Tape { RecordsGradients = false };
        var alone = model.Forward(tape, TokenBatch.FromSequences([[2, 9, 3, 10, 3]]))[0];
        var padded = model.Forward(tape, Batch())[1];
        Assert.Equal(alone, padded, 5);
    }

    [Fact]
    public void Sequences_longer_than_the_position_table_and_training_with_attention_dropout_are_refused_with_the_fix()
    {
        var model = new BertRewardModel(Tiny);
        var tooLong = TokenBatch.FromSequences([Enumerable.Repeat(4, 11).ToArray()]);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(new Tape(), tooLong));
        Assert.Contains("max_position_embeddings = 10", e.Message);
        var dropping = new BertRewardModel(Tiny with { AttentionDropout = 0.1f });
        var n = Assert.Throws<NotSupportedException>(() => dropping.Forward(new Tape(), Batch(), training: true, new Rng(1)));
        Assert.Contains("set it to 0", n.Message);
    }
}
