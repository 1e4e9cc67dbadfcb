using System.Text.Json;
using RewardKit.Models;
using RewardKit.Rl;
using RewardKit.Tensors;
using RewardKit.Tensors.Safetensors;

namespace RewardKit.Tests.Rl;

/// <summary>Advantages, KL estimators, the PPO loss and TRPO's direction against tools/rl_fixtures.py (PyTorch, float64).</summary>
public class RlFixtureTests
{
    static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Rl", "Fixtures");
    static readonly JsonElement Json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "rl.json"))).RootElement;
    static readonly int[] Lengths = [.. Json.GetProperty("lengths").EnumerateArray().Select(x => x.GetInt32())];
    static readonly int Width = Json.GetProperty("width").GetInt32();

    static float[] Flat(string key) => [.. Flatten(Json.GetProperty(key)).Select(v => (float)v)];

    static IEnumerable<double> Flatten(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flatten) : [e.GetDouble()];

    static void Near(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: {actual[i]} vs PyTorch {expected[i]}");
    }

    static GptLanguageModel Policy() => PolicyFolder.Load(Path.Combine(AppContext.BaseDirectory, "Models", "Fixtures", "gpt2_tiny_policy")).Model;

    static TokenBatch Rollouts()
    {
        var policy = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Models", "Fixtures", "gpt2_tiny_policy.json"))).RootElement;
        var prompts = Models.GptLanguageModelTests.IntRows(policy.GetProperty("prompts"));
        var responses = Models.GptLanguageModelTests.IntRows(policy.GetProperty("responses"));
        return TokenBatch.FromSequences([.. responses.Select((r, b) => (int[])[.. prompts[b], .. r])], padId: 0, [.. responses.Select((_, b) => prompts[b].Length)]);
    }

    [Fact]
    public void Gae_advantages_and_returns_match_trl()
    {
        var (advantages, returns) = Advantages.Gae(Flat("gae_rewards"), Flat("gae_values"), Lengths, Width,
            Json.GetProperty("gamma").GetDouble(), Json.GetProperty("lam").GetDouble());
        Near(Flat("gae_advantages"), advantages, 1e-5, "advantage");
        Near(Flat("gae_returns"), returns, 1e-5, "return");
    }

    [Fact]
    public void Whitening_matches_trl_masked_whiten_with_and_without_the_mean()
    {
        var x = Flat("gae_advantages");
        Advantages.Whiten(x, Lengths, Width);
        Near(Flat("whitened"), x, 1e-5, "whitened");
        var y = Flat("gae_advantages");
        Advantages.Whiten(y, Lengths, Width, shiftMean: false);
        Near(Flat("whitened_keep_mean"), y, 1e-5, "whitened (mean kept)");
    }

    [Fact]
    public void Rloo_and_batch_mean_advantages_are_exact()
    {
        var scores = Flat("rloo_scores");
        Near(Flat("rloo_advantages"), Advantages.LeaveOneOut(scores, Json.GetProperty("rloo_k").GetInt32()), 1e-6, "rloo");
        Near(Flat("batch_mean_advantages"), Advantages.MinusBatchMean(scores), 1e-6, "batch mean");
    }

    [Fact]
    public void K1_and_k3_estimators_match_their_formulas()
    {
        var lp = Flat("kl_logprobs");
        var reference = Flat("kl_ref_logprobs");
        var k1 = KlPenalty.PerToken(KlEstimator.K1, lp, reference, [lp.Length], lp.Length);
        var k3 = KlPenalty.PerToken(KlEstimator.K3, lp, reference, [lp.Length], lp.Length);
        Near(Flat("k1"), k1, 1e-6, "k1");
        Near(Flat("k3"), k3, 1e-5, "k3");
        Assert.All(k3, v => Assert.True(v >= 0));
    }

    [Fact]
    public void Every_ppo_loss_term_and_every_gradient_match_pytorch()
    {
        var model = Policy();
        var tape = new Tape();
        var lp = model.ResponseLogProbs(tape, Rollouts(), 1f, entropy: true);
        Near(Flat("ppo_logprobs"), lp.LogProbs.Data, 1e-4, "log-prob");
        var values = tape.Empty([Lengths.Length, Width], requiresGrad: true);
        Flat("ppo_values").CopyTo(values.Data);
        var options = new PpoLossOptions { ClipRange = 0.2, ClipRangeValue = 0.2, ValueCoefficient = 0.1, EntropyCoefficient = 0.01 };
        var terms = PpoLoss.Compute(tape, options, lp.LogProbs, lp.Mask, Flat("ppo_old_logprobs"), Flat("ppo_advantages"),
            values, Flat("ppo_old_values"), Flat("ppo_returns"), lp.Entropy);
        Assert.Equal(Json.GetProperty("ppo_loss").GetDouble(), terms.Loss.ToScalar(), 1e-4);
        Assert.Equal(Json.GetProperty("ppo_policy_loss").GetDouble(), terms.PolicyLoss.ToScalar(), 1e-4);
        Assert.Equal(Json.GetProperty("ppo_value_loss").GetDouble(), terms.ValueLoss!.ToScalar(), 1e-4);
        Assert.Equal(Json.GetProperty("ppo_entropy").GetDouble(), terms.Entropy!.ToScalar(), 1e-4);
        Assert.Equal(Json.GetProperty("ppo_approxkl").GetDouble(), terms.ApproxKl, 1e-4);
        Assert.Equal(Json.GetProperty("ppo_clipfrac").GetDouble(), terms.ClipFraction, 1e-9);
        Assert.Equal(Json.GetProperty("ppo_vf_clipfrac").GetDouble(), terms.ValueClipFraction, 1e-9);
        Assert.Equal(Json.GetProperty("ppo_ratio").GetDouble(), terms.MeanRatio, 1e-4);

        model.Parameters.ZeroGrad();
        tape.Backward(terms.Loss);
        Near(Flat("ppo_values_grad"), values.Grad, 1e-4, "d loss / d value");
        var expected = SafetensorsFile.ReadAllFloats(Path.Combine(Fixtures, "rl_policy_grads.safetensors"));
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
    public void Trpo_step_direction_by_conjugate_gradient_matches_pytorch_double_backward_within_1e3_cosine()
    {
        var model = Policy();
        var batch = Rollouts();
        var tensors = SafetensorsFile.ReadAllFloats(Path.Combine(Fixtures, "rl_trpo.safetensors"));
        float[] Vector(string prefix) => [.. model.Parameters.Entries.SelectMany(e => tensors[prefix + e.Name].Values)];

        // g: the gradient of the surrogate mean(ρ·A) at θ₀, computed here and compared with PyTorch's
        var tape = new Tape();
        var lp = model.ResponseLogProbs(tape, batch);
        var terms = PpoLoss.Compute(tape, new PpoLossOptions { ClipRange = 1e30 }, lp.LogProbs, lp.Mask, lp.LogProbs.ToArray(), Flat("trpo_advantages"));
        model.Parameters.ZeroGrad();
        tape.Backward(terms.PolicyLoss);
        var g = model.Parameters.Gradients.ToArray().Select(x => -x).ToArray();
        model.Parameters.ZeroGrad();
        var expectedG = Vector("g.");
        Assert.True(Cosine(g, expectedG) >= 1 - 1e-5, $"surrogate gradient cosine {Cosine(g, expectedG)}");

        var fisher = new PolicyFisher(model, batch, 1f, Json.GetProperty("damping").GetDouble());
        var direction = NaturalGradient.ConjugateGradient(fisher.Product, expectedG, Json.GetProperty("cg_iterations").GetInt32());
        double cosine = Cosine(direction, Vector("direction."));
        Assert.True(cosine >= 1 - 1e-3, $"TRPO direction cosine {cosine}");
    }

    static double Cosine(float[] a, float[] b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++) { ab += (double)a[i] * b[i]; aa += (double)a[i] * a[i]; bb += (double)b[i] * b[i]; }
        return ab / Math.Sqrt(aa * bb);
    }
}
