using System.Text.Json;
using RewardKit.Models;
using RewardKit.Models.Bert;
using RewardKit.Tensors;
using RewardKit.Tensors.Safetensors;
using RewardKit.Training.Losses;

namespace RewardKit.Tests.Models.Bert;

/// <summary>Checks the BERT reward model against tools/bert_block_fixtures.py (PyTorch, float64, BertForSequenceClassification's computation).</summary>
public class BertParityTests
{
    static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Models", "Fixtures");

    static (BertRewardModel Model, JsonElement Json, TokenBatch Batch) Load(BertPooling pooling)
    {
        var config = BertConfig.Load(Path.Combine(Fixtures, "bert_tiny"));
        var model = new BertRewardModel(config, pooling);
        var report = BertModelFolder.LoadWeights(model, Path.Combine(Fixtures, "bert_tiny", "model.safetensors"), new Rng(0));
        Assert.Empty(report.Missing);
        Assert.Empty(report.Unexpected);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "bert_tiny_parity.json"))).RootElement;
        int[] Ints(string name) => json.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var lengths = Ints("lengths");
        return (model, json, new TokenBatch(Ints("ids"), lengths.Length, json.GetProperty("time").GetInt32(), lengths));
    }

    static double[] Doubles(JsonElement json, string name) => json.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();

    [Fact]
    public void Token_types_are_zero_through_the_first_separator_and_one_after_it()
    {
        var (model, json, batch) = Load(BertPooling.Cls);
        var expected = json.GetProperty("token_types").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var actual = model.TokenTypes(batch);
        for (int b = 0; b < batch.Batch; b++)
            for (int t = 0; t < batch.Lengths[b]; t++) Assert.Equal(expected[b * batch.Time + t], actual[b * batch.Time + t]);
    }

    [Fact]
    public void One_layers_forward_and_the_last_hidden_states_match_pytorch()
    {
        var (model, json, batch) = Load(BertPooling.Cls);
        int n = batch.Lengths[0], C = model.Config.HiddenSize;
        var input = Tensor.FromSpan(Doubles(json, "layer0_input_row0").Select(d => (float)d).ToArray(), 1, n, C);
        var output = model.Layers[0].Forward(new Tape { RecordsGradients = false }, input, Tensor.Ones(1, n), default);
        AssertClose(Doubles(json, "layer0_output_row0"), output.Data, 1e-5, "layer 0 output");
        var (hidden, _) = model.Encode(new Tape { RecordsGradients = false }, batch);
        AssertClose(Doubles(json, "last_hidden_row0"), hidden.Data[..(n * C)], 1e-5, "last hidden state");
    }

    [Fact]
    public void The_gradient_the_layers_send_into_their_input_matches_pytorch()
    {
        var (model, json, batch) = Load(BertPooling.Cls);
        int n = batch.Lengths[0], C = model.Config.HiddenSize;
        // The embedding output as a leaf, then every layer, the pooler and the classifier: one block's backward at a time
        // ends in d loss / d (layer-0 input), which PyTorch recorded for row 0.
        var h0 = EmbeddingOutput(model, new Tape { RecordsGradients = false }, batch);
        var leaf = Tensor.FromSpan(h0.Data, h0.Shape).RequireGrad();
        var mask = Tensor.FromArray(batch.AttentionMask(), batch.Batch, batch.Time);
        var tape = new Tape();
        var h = leaf;
        foreach (var layer in model.Layers) h = layer.Forward(tape, h, mask, default);
        var rewards = tape.Linear(model.Pool(tape, h, batch), model.ClassifierWeight, model.ClassifierBias).Reshape(batch.Batch);
        int pairs = json.GetProperty("pairs").GetInt32();
        tape.Backward(BradleyTerry.Loss(tape, rewards.Slice(0, pairs), rewards.Slice(pairs, pairs)));
        AssertClose(Doubles(json, "layer0_input_row0"), leaf.Data[..(n * C)], 1e-5, "embedding output");
        AssertClose(Doubles(json, "layer0_input_grad_row0"), leaf.Grad[..(n * C)], 1e-5, "d loss / d layer-0 input");
    }

    /// <summary>The embeddings' LayerNorm output (B, T, C): the same model with no layers.</summary>
    static Tensor EmbeddingOutput(BertRewardModel model, Tape tape, TokenBatch batch)
    {
        var shallow = new BertRewardModel(model.Config with { Layers = 0 }, model.Pooling);
        foreach (var e in shallow.Parameters.Entries) model.Parameters[e.Name].Data.CopyTo(e.Tensor.Data);
        return shallow.Encode(tape, batch).Hidden;
    }

    [Theory]
    [InlineData(BertPooling.Cls, "rewards_cls", "loss_cls", "bert_tiny_grads.safetensors")]
    [InlineData(BertPooling.Mean, "rewards_mean", "loss_mean", "bert_tiny_mean_grads.safetensors")]
    public void Rewards_loss_and_every_gradient_match_pytorch(BertPooling pooling, string rewardsKey, string lossKey, string gradsFile)
    {
        var (model, json, batch) = Load(pooling);
        int pairs = json.GetProperty("pairs").GetInt32();
        var tape = new Tape();
        var rewards = model.Forward(tape, batch);
        AssertClose(Doubles(json, rewardsKey), rewards.Data, 1e-5, "rewards");
        var loss = BradleyTerry.Loss(tape, rewards.Slice(0, pairs), rewards.Slice(pairs, pairs));
        Assert.InRange(loss.ToScalar() - json.GetProperty(lossKey).GetDouble(), -1e-5, 1e-5);
        model.Parameters.ZeroGrad();
        tape.Backward(loss);
        var expected = SafetensorsFile.ReadAllFloats(Path.Combine(Fixtures, gradsFile));
        Assert.Equal(model.Parameters.Entries.Count, expected.Count);
        // A gradient that is zero in exact arithmetic is compared against 1e-2 of the largest gradient entry instead of its own
        // float32 rounding noise: classifier.bias cancels in r_w − r_l, and with mean pooling so does the last LayerNorm's bias
        // (it shifts every token, hence the mean, by the same vector).
        double floor = 1e-2 * expected.Max(g => g.Value.Values.Max(MathF.Abs));
        foreach (var (name, (_, grad)) in expected)
        {
            var actual = model.Parameters[name].Grad;
            double scale = Math.Max(grad.Max(MathF.Abs), floor), worst = 0;
            for (int i = 0; i < grad.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - grad[i]) / scale);
            Assert.True(worst <= 1e-4, $"{name}: gradient differs from PyTorch by {worst:E2} of its largest entry.");
        }
    }

    static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what}[{i}]: {actual[i]} vs PyTorch {expected[i]}");
    }
}
