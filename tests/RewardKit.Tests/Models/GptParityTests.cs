using System.Text.Json;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Optim;
using RewardKit.Tensors.Safetensors;
using RewardKit.Training;
using RewardKit.Training.Losses;

namespace RewardKit.Tests.Models;

/// <summary>Checks the model against tools/gpt2_parity_fixtures.py (PyTorch, float64, HF GPT-2 computation).</summary>
public class GptParityTests
{
    static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Models", "Fixtures");

    static (GptRewardModel Model, JsonElement Json, TokenBatch Batch) Load()
    {
        var config = GptConfig.Load(Path.Combine(Fixtures, "gpt2_tiny"));
        var model = new GptRewardModel(config);
        foreach (var (name, (shape, values)) in SafetensorsFile.ReadAllFloats(Path.Combine(Fixtures, "gpt2_tiny", "model.safetensors")))
        {
            Assert.Equal(shape, model.Parameters[name].Shape);
            values.CopyTo(model.Parameters[name].Data);
        }
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "gpt2_tiny_parity.json"))).RootElement;
        int time = json.GetProperty("time").GetInt32();
        var ids = json.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var lengths = json.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        return (model, json, new TokenBatch(ids, lengths.Length, time, lengths));
    }

    [Fact]
    public void Every_pytorch_tensor_has_a_parameter_of_the_same_name_and_shape_and_pad_search_would_read_other_rows()
    {
        var (model, json, batch) = Load();
        Assert.Equal(model.Parameters.Entries.Count, SafetensorsFile.ReadAllFloats(Path.Combine(Fixtures, "gpt2_tiny", "model.safetensors")).Count);
        var padSearch = json.GetProperty("pad_search_rows").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var lastReal = batch.LastTokenRows().Select((row, b) => row - b * batch.Time).ToArray();
        Assert.NotEqual(padSearch, lastReal); // the fixture distinguishes mask-based pooling from the trl#937 bug
    }

    [Fact]
    public void Rewards_loss_and_every_gradient_match_pytorch()
    {
        var (model, json, batch) = Load();
        int pairs = json.GetProperty("pairs").GetInt32();
        var tape = new Tape();
        var rewards = model.Forward(tape, batch);
        var expected = json.GetProperty("rewards").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.InRange(rewards[i] - expected[i], -1e-5, 1e-5);

        var loss = BradleyTerry.Loss(tape, rewards.Slice(0, pairs), rewards.Slice(pairs, pairs));
        Assert.InRange(loss.ToScalar() - json.GetProperty("loss").GetDouble(), -1e-5, 1e-5);

        model.Parameters.ZeroGrad();
        tape.Backward(loss);
        var expectedGrads = SafetensorsFile.ReadAllFloats(Path.Combine(Fixtures, "gpt2_tiny_grads.safetensors")).ToList();
        // A gradient that is zero in exact arithmetic (ln_f.bias: a shift of every reward cancels in r_w - r_l) is compared
        // against a floor of 1e-3 of the model's largest gradient entry instead of against its own float32 rounding noise.
        double floor = 1e-3 * expectedGrads.Max(g => g.Value.Item2.Max(MathF.Abs));
        foreach (var (name, (_, grad)) in expectedGrads)
        {
            var actual = model.Parameters[name].Grad;
            double scale = Math.Max(grad.Max(MathF.Abs), floor), worst = 0;
            for (int i = 0; i < grad.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - grad[i]) / scale);
            Assert.True(worst <= 1e-4, $"{name}: gradient differs from PyTorch by {worst:E2} of its largest entry.");
        }
    }
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Language_model_loss_and_every_gradient_match_gpt2_lm_head_model(bool responseOnly)
    {
        var (model, _, _) = Load();
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "gpt2_tiny_lm.json"))).RootElement;
        int time = json.GetProperty("time").GetInt32();
        int[] Ints(string name) => json.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var lengths = Ints("lengths");
        var batch = new TokenBatch(Ints("ids"), lengths.Length, time, lengths, Ints("response_start"));
        var tape = new Tape();
        model.Parameters.ZeroGrad();
        var loss = model.LanguageModelLoss(tape, batch, responseOnly);
        Assert.InRange(loss.ToScalar() - json.GetProperty(responseOnly ? "response_loss" : "loss").GetDouble(), -1e-5, 1e-5);
        tape.Backward(loss);

        string prefix = responseOnly ? "response/" : "";
        var expected = SafetensorsFile.ReadAllFloats(Path.Combine(Fixtures, "gpt2_tiny_lm_grads.safetensors"))
            .Where(g => g.Key.StartsWith("response/", StringComparison.Ordinal) == responseOnly)
            .ToDictionary(g => g.Key[prefix.Length..], g => g.Value.Item2);
        Assert.Equal(model.Parameters.Entries.Count - 1, expected.Count);   // every tensor but score.weight
        Assert.All(model.Parameters[GptRewardModel.ScoreWeightName].Grad.ToArray(), g => Assert.Equal(0f, g));
        double floor = 1e-3 * expected.Values.Max(g => g.Max(MathF.Abs));
        foreach (var (name, grad) in expected)
        {
            var actual = model.Parameters[name].Grad;
            double scale = Math.Max(grad.Max(MathF.Abs), floor), worst = 0;
            for (int i = 0; i < grad.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - grad[i]) / scale);
            Assert.True(worst <= 1e-4, $"{name}: language-model gradient differs from PyTorch by {worst:E2} of its largest entry.");
        }
    }

    [Fact]
    public void Ten_adamw_steps_with_clipping_give_the_pytorch_losses_through_the_trainers_optimiser()
    {
        var (model, json, _) = Load();
        var adamw = json.GetProperty("adamw");
        int pairs = json.GetProperty("pairs").GetInt32(), time = json.GetProperty("time").GetInt32();
        var betas = adamw.GetProperty("betas").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal([0.9, 0.999], betas);        // AdamW's defaults, which the trainer uses
        Assert.Equal(1e-8, adamw.GetProperty("eps").GetDouble());
        var options = new RewardTrainingOptions
        {
            LearningRate = adamw.GetProperty("lr").GetDouble(),
            WeightDecay = adamw.GetProperty("weight_decay").GetDouble(),
            MaxGradNorm = adamw.GetProperty("max_grad_norm").GetDouble(),
        };
        var optimizer = RewardTrainer.CreateOptimizer(model.Parameters, options);
        var expectedLosses = adamw.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var expectedNorms = adamw.GetProperty("grad_norms").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var batchIds = adamw.GetProperty("ids").EnumerateArray().ToArray();
        var batchLengths = adamw.GetProperty("lengths").EnumerateArray().ToArray();
        Assert.Equal(10, expectedLosses.Length);
        Assert.True(expectedNorms.Any(n => n > options.MaxGradNorm), "the fixture should exercise clipping");
        var tape = new Tape();
        var trainingStep = new TrainingStep(model.Parameters, optimizer, tape, LearningRateSchedule.Constant(options.PeakLearningRate), options.MaxGradNorm);
        for (int step = 0; step < expectedLosses.Length; step++)
        {
            var ids = batchIds[step].EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var lengths = batchLengths[step].EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var result = trainingStep.Run(step, 1, (tape, _) =>
            {
                var rewards = model.Forward(tape, new TokenBatch(ids, lengths.Length, time, lengths));
                return new MicroBatchLoss(BradleyTerry.Loss(tape, rewards.Slice(0, pairs), rewards.Slice(pairs, pairs)), 0);
            });
            Assert.True(Math.Abs(result.Loss - expectedLosses[step]) <= 1e-4 * Math.Abs(expectedLosses[step]),
                $"step {step + 1}: loss {result.Loss:R} vs PyTorch {expectedLosses[step]:R}");
            Assert.True(Math.Abs(result.GradNorm - expectedNorms[step]) <= 1e-4 * expectedNorms[step],
                $"step {step + 1}: grad norm {result.GradNorm:R} vs PyTorch {expectedNorms[step]:R}");
        }
    }

    [Fact]
    public void Inference_returns_each_blocks_temporaries_to_the_arena_and_scores_exactly_as_a_recording_pass()
    {
        var config = new GptConfig { Layers = 4, EmbeddingSize = 32, Heads = 2, Positions = 16, VocabSize = 50, EosTokenId = 49 }.WithoutDropout();
        var model = GptRewardModel.Create(config, seed: 3);
        int[] lengths = [16, 9, 4];
        var ids = new int[lengths.Length * 16];
        for (int i = 0; i < ids.Length; i++) ids[i] = (i * 7 + 3) % 50;
        var batch = new TokenBatch(ids, lengths.Length, 16, lengths);
        var recording = new Tape();
        var expected = model.Forward(recording, batch).ToArray();
        var inference = new Tape { RecordsGradients = false };
        var actual = model.Forward(inference, batch).ToArray();
        Assert.Equal(expected, actual);
        // Four blocks recorded vs one block's temporaries plus two residual buffers.
        Assert.True(inference.Arena.HighWater * 2 < recording.Arena.HighWater, $"inference high water {inference.Arena.HighWater} floats vs recording {recording.Arena.HighWater}");
    }

    [Fact]
    public void Releasing_intermediates_in_backward_gives_bit_identical_gradients_over_several_steps_with_a_lower_high_water()
    {
        // Dropout on (embedding and residual), so the released dropout masks and outputs are exercised too.
        var config = new GptConfig { Layers = 3, EmbeddingSize = 32, Heads = 2, Positions = 16, VocabSize = 50, EosTokenId = 49, AttentionDropout = 0 };
        int[] lengths = [16, 9, 12, 4];
        var ids = new int[lengths.Length * 16];
        for (int i = 0; i < ids.Length; i++) ids[i] = (i * 7 + 3) % 50;
        var batch = new TokenBatch(ids, lengths.Length, 16, lengths);

        (List<float[]> Grads, long HighWater) Run(bool releases, bool recompute = false)
        {
            var model = GptRewardModel.Create(config, seed: 5);
            var dropoutRng = new Rng(11);
            var tape = new Tape { ReleasesIntermediates = releases, RecomputesAttention = recompute };
            var grads = new List<float[]>();
            for (int step = 0; step < 3; step++)
            {
                model.Parameters.ZeroGrad();
                var rewards = model.Forward(tape, batch, training: true, dropoutRng);
                tape.Backward(BradleyTerry.Loss(tape, rewards.Slice(0, 2), rewards.Slice(2, 2)));
                grads.Add(model.Parameters.Gradients.ToArray());
                tape.Reset();
            }
            return (grads, tape.Arena.HighWater);
        }

        var (kept, keptHigh) = Run(releases: false);
        var (released, releasedHigh) = Run(releases: true);
        var (recomputed, recomputedHigh) = Run(releases: true, recompute: true);
        for (int step = 0; step < kept.Count; step++) Assert.Equal(kept[step], released[step]);
        for (int step = 0; step < kept.Count; step++) Assert.Equal(kept[step], recomputed[step]);
        Assert.True(recomputedHigh < releasedHigh, $"high water {recomputedHigh} floats recomputing attention vs {releasedHigh} keeping it");
        Assert.Contains(kept[0], g => g != 0f);
        Assert.True(releasedHigh < keptHigh * 3 / 4, $"high water {releasedHigh} floats released vs {keptHigh} kept");
    }

    [Fact]
    public void Last_block_on_the_reward_rows_only_gives_the_full_computations_rewards_and_gradients()
    {
        var config = new GptConfig { Layers = 3, EmbeddingSize = 32, Heads = 2, Positions = 16, VocabSize = 50, EosTokenId = 49 }.WithoutDropout();
        int[] lengths = [16, 9, 4, 12];
        var ids = new int[lengths.Length * 16];
        for (int i = 0; i < ids.Length; i++) ids[i] = (i * 7 + 3) % 50;
        var batch = new TokenBatch(ids, lengths.Length, 16, lengths);

        (float[] Rewards, float[] Grads, long HighWater) Run(bool rowsOnly, bool recording)
        {
            var model = GptRewardModel.Create(config, seed: 5);
            model.ComputeLastBlockOnRewardRowsOnly = rowsOnly;
            var tape = new Tape { RecordsGradients = recording };
            var rewards = model.Forward(tape, batch);
            var r = rewards.ToArray();
            if (!recording) return (r, [], tape.Arena.HighWater);
            var loss = BradleyTerry.Loss(tape, rewards.Slice(0, 2), rewards.Slice(2, 2));
            model.Parameters.ZeroGrad();
            tape.Backward(loss);
            return (r, model.Parameters.Gradients.ToArray(), tape.Arena.HighWater);
        }

        var full = Run(rowsOnly: false, recording: true);
        var rows = Run(rowsOnly: true, recording: true);
        Assert.Equal(full.Rewards, rows.Rewards);                                   // the same arithmetic on the rows read
        Assert.Equal(full.Rewards, Run(rowsOnly: true, recording: false).Rewards);  // inference too
        double scale = full.Grads.Max(MathF.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < full.Grads.Length; i++)
            Assert.True(Math.Abs(full.Grads[i] - rows.Grads[i]) <= 1e-5 * scale, $"gradient entry {i}: {rows.Grads[i]:R} vs full {full.Grads[i]:R}");
        Assert.True(rows.HighWater < full.HighWater, $"rows-only high water {rows.HighWater} floats vs full {full.HighWater}");
    }
}
