using System.Text.Json;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Safetensors;

namespace RewardKit.Tests.Models;

/// <summary>Checks the policy against tools/gpt2_policy_fixtures.py (PyTorch, float64, GPT2LMHeadModel computation).</summary>
public class GptLanguageModelTests
{
    static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Models", "Fixtures");

    internal static JsonElement PolicyFixture() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "gpt2_tiny_policy.json"))).RootElement;

    internal static GptLanguageModel PolicyFixtureModel() => PolicyFolder.Load(Path.Combine(Fixtures, "gpt2_tiny_policy")).Model;

    internal static int[][] IntRows(JsonElement e) => [.. e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray())];

    static double[][] DoubleRows(JsonElement e) => [.. e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray())];

    /// <summary>The fixture's scoring rows: prompt + response, right-padded, response starts at the prompt's end.</summary>
    static TokenBatch ScoringBatch(JsonElement json)
    {
        var prompts = IntRows(json.GetProperty("prompts"));
        var responses = IntRows(json.GetProperty("responses"));
        return TokenBatch.FromSequences([.. responses.Select((r, b) => (int[])[.. prompts[b], .. r])], padId: 0, [.. responses.Select((_, b) => prompts[b].Length)]);
    }

    static Tensor Weights(double[][] rows) => Tensor.FromSpan(rows.SelectMany(r => r.Select(v => (float)v)).ToArray(), rows.Length, rows[0].Length);

    [Theory]
    [InlineData(1.0f, "logprobs", "entropy")]
    [InlineData(0.5f, "logprobs_tau", "entropy_tau")]
    public void Response_log_probs_and_entropy_match_pytorch(float temperature, string logProbsKey, string entropyKey)
    {
        var json = PolicyFixture();
        var model = PolicyFixtureModel();
        var batch = ScoringBatch(json);
        var result = model.ResponseLogProbs(new Tape(), batch, temperature, entropy: true);
        var expectedLp = DoubleRows(json.GetProperty(logProbsKey));
        var expectedH = DoubleRows(json.GetProperty(entropyKey));
        Assert.Equal([expectedLp.Length, expectedLp[0].Length], result.LogProbs.Shape);
        for (int b = 0; b < expectedLp.Length; b++)
            for (int j = 0; j < expectedLp[b].Length; j++)
            {
                int at = b * expectedLp[b].Length + j;
                Assert.Equal(j < result.Lengths[b] ? 1f : 0f, result.Mask[at]);
                Assert.True(Math.Abs(result.LogProbs[at] - expectedLp[b][j]) <= 1e-4, $"log-prob [{b}, {j}]: {result.LogProbs[at]} vs PyTorch {expectedLp[b][j]}");
                Assert.True(Math.Abs(result.Entropy![at] - expectedH[b][j]) <= 1e-4, $"entropy [{b}, {j}]: {result.Entropy[at]} vs PyTorch {expectedH[b][j]}");
            }
    }

    [Fact]
    public void Gradients_of_log_probs_and_entropy_at_a_temperature_match_pytorch()
    {
        var json = PolicyFixture();
        var model = PolicyFixtureModel();
        var tape = new Tape();
        var result = model.ResponseLogProbs(tape, ScoringBatch(json), json.GetProperty("tau").GetSingle(), entropy: true);
        // L = Σ w_lp ⊙ logp + w_h ⊙ H over the real tokens (padded cells are 0 and take no gradient).
        var loss = tape.Sum(tape.Add(tape.Mul(result.LogProbs, Weights(DoubleRows(json.GetProperty("weight_logprobs")))),
            tape.Mul(result.Entropy!, Weights(DoubleRows(json.GetProperty("weight_entropy"))))));
        Assert.InRange(loss.ToScalar() - json.GetProperty("loss").GetDouble(), -1e-3, 1e-3);
        model.Parameters.ZeroGrad();
        tape.Backward(loss);
        var expected = SafetensorsFile.ReadAllFloats(Path.Combine(Fixtures, "gpt2_tiny_policy_grads.safetensors"));
        Assert.Equal(model.Parameters.Entries.Count, expected.Count);
        double floor = 1e-3 * expected.Values.Max(g => g.Values.Max(MathF.Abs));
        foreach (var (name, (_, grad)) in expected)
        {
            var actual = model.Parameters[name].Grad;
            double scale = Math.Max(grad.Max(MathF.Abs), floor), worst = 0;
            for (int i = 0; i < grad.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - grad[i]) / scale);
            Assert.True(worst <= 1e-4, $"{name}: gradient differs from PyTorch by {worst:E2} of its largest entry.");
        }
    }

    [Fact]
    public void An_inference_tape_gives_the_recorded_log_probs_bit_for_bit_and_records_nothing()
    {
        var json = PolicyFixture();
        var model = PolicyFixtureModel();
        var recorded = model.ResponseLogProbs(new Tape(), ScoringBatch(json), 0.7f, entropy: true);
        var tape = new Tape { RecordsGradients = false };
        var frozen = model.ResponseLogProbs(tape, ScoringBatch(json), 0.7f, entropy: true);
        Assert.Equal(recorded.LogProbs.ToArray(), frozen.LogProbs.ToArray());
        Assert.Equal(recorded.Entropy!.ToArray(), frozen.Entropy!.ToArray());
        Assert.False(frozen.LogProbs.RequiresGrad);
        Assert.Equal(0, tape.Count);
        Assert.Equal(recorded.Row(1), frozen.Row(1));
        Assert.Equal(recorded.Lengths[1], frozen.Row(1).Length);
    }

    [Fact]
    public void The_language_model_loss_of_a_policy_started_from_a_reward_model_is_the_reward_models_and_pytorchs()
    {
        var (policy, report) = PolicyFolder.InitializeFrom(Path.Combine(Fixtures, "gpt2_tiny"));
        Assert.Equal([GptRewardModel.ScoreWeightName], report.Unexpected);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "gpt2_tiny_lm.json"))).RootElement;
        int[] Ints(string name) => json.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var lengths = Ints("lengths");
        var batch = new TokenBatch(Ints("ids"), lengths.Length, json.GetProperty("time").GetInt32(), lengths, Ints("response_start"));
        Assert.InRange(policy.LanguageModelLoss(new Tape(), batch).ToScalar() - json.GetProperty("loss").GetDouble(), -1e-5, 1e-5);
        Assert.InRange(policy.LanguageModelLoss(new Tape(), batch, responseOnly: true).ToScalar() - json.GetProperty("response_loss").GetDouble(), -1e-5, 1e-5);
    }

    [Fact]
    public void A_clone_starts_equal_and_then_is_independent()
    {
        var model = GptLanguageModel.Create(new GptConfig { Layers = 1, EmbeddingSize = 8, Heads = 2, Positions = 8, VocabSize = 12, EosTokenId = 11 }, seed: 2);
        var clone = model.Clone();
        Assert.Equal(model.Parameters.Values.ToArray(), clone.Parameters.Values.ToArray());
        clone.Parameters.Values[0] += 1f;
        Assert.NotEqual(model.Parameters.Values[0], clone.Parameters.Values[0]);
    }

    [Fact]
    public void A_response_without_a_prompt_token_before_it_or_without_a_start_is_refused_naming_the_row()
    {
        var model = GptLanguageModel.Create(new GptConfig { Layers = 1, EmbeddingSize = 8, Heads = 2, Positions = 8, VocabSize = 12, EosTokenId = 11 }, seed: 2);
        var e = Assert.Throws<ArgumentException>(() => model.ResponseLogProbs(new Tape(), new TokenBatch([1, 2, 3, 4], 2, 2, [2, 2], [1, 0])));
        Assert.Contains("row 1", e.Message);
        Assert.Throws<ArgumentException>(() => model.ResponseLogProbs(new Tape(), new TokenBatch([1, 2], 1, 2, [2])));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ResponseLogProbs(new Tape(), new TokenBatch([1, 2], 1, 2, [2], [1]), temperature: 0));
    }
}
