using RewardKit.IO;
using RewardKit.Inference.Quantization;
using RewardKit.Inference;
using RewardKit.Models.Quantization;
using RewardKit.Models;
using RewardKit.Tensors.Safetensors;
using RewardKit.Tensors;
using RewardKit.Tests.Training;
using RewardKit.Training;

namespace RewardKit.Tests.Inference.Quantization;

public sealed class QuantizedModelTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-quant-" + Guid.NewGuid().ToString("N")[..8]);
    static readonly GptConfig Config = new GptConfig { Layers = 2, EmbeddingSize = 32, Heads = 2, Positions = 16, VocabSize = 40, EosTokenId = 39 }.WithoutDropout();

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    static TokenBatch Batch() => TokenBatch.FromSequences([[1, 2, 3, 4, 5], [7, 8], [9, 10, 11, 12, 13, 14, 15, 16, 17], [20]]);

    static float[] Score(GptRewardModel model) => model.Forward(new Tape { RecordsGradients = false }, Batch()).ToArray();

    (string Float, string Int8, GptRewardModel Source) SaveBoth()
    {
        var source = GptRewardModel.Create(Config, seed: 11);
        var floatDir = Path.Combine(_dir, "float");
        var meta = RewardModelFolder.Save(source, floatDir);
        var (model, metadata) = RewardModelFolder.Load(floatDir);
        var layers = QuantizedConv1D.QuantizeWeights(model);
        QuantizedConv1D.WriteDequantized(model, layers);
        QuantizedModelFolder.Save(model, layers, metadata, floatDir, Path.Combine(_dir, "int8"));
        Assert.Equal(meta.Version, metadata.Version);
        return (floatDir, Path.Combine(_dir, "int8"), source);
    }

    [NeedsOpsFact]
    public void A_quantised_folder_loads_through_the_normal_loader_and_scores_with_the_int8_layers()
    {
        var (_, int8Dir, source) = SaveBoth();
        var (loaded, metadata) = RewardModelFolder.Load(int8Dir);
        var kernel = Assert.IsType<QuantizedConv1D>(loaded.Conv1DKernel);
        Assert.Equal(4 * Config.Layers, kernel.Layers.Count);
        Assert.True(QuantizedModelFolder.IsQuantized(metadata));
        Assert.True(File.Exists(Path.Combine(int8Dir, QuantizedModelFolder.Int8WeightsFileName)));

        var int8 = Score(loaded);
        loaded.Conv1DKernel = null;                  // the float path over the dequantised weights (what Hugging Face computes)
        var dequantised = Score(loaded);
        var exact = Score(source);
        for (int b = 0; b < int8.Length; b++)
        {
            Assert.NotEqual(exact[b], int8[b]);      // the int8 path really ran
            Assert.Equal(dequantised[b], int8[b], 1e-3);   // differs from the dequantised float model by activation rounding only
            Assert.Equal(exact[b], int8[b], 0.05);
        }
    }

    [NeedsOpsFact]
    public void The_int8_path_gives_the_same_rewards_for_every_isa()
    {
        var (_, int8Dir, _) = SaveBoth();
        var (model, _) = RewardModelFolder.Load(int8Dir);
        var auto = Score(model);
        var layers = ((QuantizedConv1D)model.Conv1DKernel!).Layers;
        foreach (var isa in new[] { Int8GemmIsa.Scalar, Int8GemmIsa.Avx2, Int8GemmIsa.Avx512 }.Where(Int8Gemm.IsSupported))
        {
            model.Conv1DKernel = new QuantizedConv1D(model, layers, isa);
            Assert.Equal(auto, Score(model));
        }
    }

    [NeedsOpsFact]
    public void A_tape_that_records_gradients_is_refused()
    {
        var (_, int8Dir, _) = SaveBoth();
        var (model, _) = RewardModelFolder.Load(int8Dir);
        foreach (var e in model.Parameters.Entries) e.Tensor.RequireGrad();
        var error = Assert.Throws<NotSupportedException>(() => model.Forward(new Tape(), Batch()));
        Assert.Contains("inference only", error.Message);
    }

    [Fact]
    public void A_corrupt_int8_file_is_refused_naming_the_checksum()
    {
        var (_, int8Dir, _) = SaveBoth();
        var path = Path.Combine(int8Dir, QuantizedModelFolder.Int8WeightsFileName);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 1;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(int8Dir));
        Assert.Contains("sha256", error.Message);
    }

    [Fact]
    public void Float_weights_from_another_model_are_refused()
    {
        var (_, int8Dir, _) = SaveBoth();
        var other = GptRewardModel.Create(Config, seed: 99);
        SafetensorsWriter.Write(Path.Combine(int8Dir, RewardModelFolder.WeightsFileName), other.Parameters.Entries.Select(e => (e.Name, e.Tensor.Shape, e.Tensor.ToArray())));
        Assert.Contains("records version", Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(int8Dir)).Message); // the version check sees it first
        var error = Assert.Throws<InvalidDataException>(() => RewardModelFolder.Load(int8Dir, verifyVersion: false));     // and without it, the int8 cross-check
        Assert.Contains("different models", error.Message);
    }

    [NeedsOpsFact]
    public void Quantizing_a_trained_model_keeps_its_preferences_and_reports_the_measured_cost()
    {
        Directory.CreateDirectory(_dir);
        var data = TrainingTestData.WritePairs(_dir, "train.jsonl", 40);
        var trained = new RewardTrainer(TrainingTestData.Options(maxSteps: 30)) { ConfigureModel = TrainingTestData.Tiny }
            .Train(data, null, Path.Combine(_dir, "run"));
        var output = Path.Combine(_dir, "q");

        var report = ModelQuantizer.Quantize(trained.ModelDirectory!, output, new ModelQuantizerOptions { DataFile = data, Repeats = 2 });

        Assert.Equal(40, report.Cost.Pairs);
        Assert.True(report.Cost.PreferenceAgreement >= 0.99, $"agreement {report.Cost.PreferenceAgreement}");
        Assert.InRange(report.Cost.MaxAbsRewardDelta, 1e-9, 0.1);
        Assert.True(report.Cost.MeanAbsRewardDelta <= report.Cost.MaxAbsRewardDelta);
        Assert.Equal(80, report.Sequences);
        Assert.Equal(2, report.FloatRuns.Length);
        Assert.True(report.FloatSeconds > 0 && report.Int8Seconds > 0);
        Assert.True(report.Int8WeightBytes < report.FloatWeightBytes / 3);
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => d.Contains(".quantize-") || d.Contains(".tmp-"));

        var metadata = RewardModelMetadata.Load(output);
        var record = metadata.Extra![QuantizedModelFolder.MetadataKey];
        Assert.Equal(report.Cost.PreferenceAgreement, record.GetProperty("cost").GetProperty("preference_agreement").GetDouble());
        Assert.Equal(RewardModelMetadata.Load(trained.ModelDirectory!).Version, record.GetProperty("source_version").GetString());
        using (var model = ModelLoading.Load(output))
            Assert.True(double.IsFinite(new RewardScorer(model).Score("Tell me about tea.", "Sure, happy to help.").Raw));

        var again = Assert.Throws<ArgumentException>(() => ModelQuantizer.Quantize(output, Path.Combine(_dir, "qq"), new ModelQuantizerOptions { DataFile = data }));
        Assert.Contains("already quantised", again.Message);
    }
}
