using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.OnnxRuntime;
using RewardKit.Export;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Tensors;

namespace RewardKit.Tests.Export;

/// <summary>The exported graphs run in ONNX Runtime and give RewardKit's rewards.</summary>
public sealed class GptOnnxExporterTests : IDisposable
{
    const double Tolerance = 1e-4;
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rk-onnx-" + Guid.NewGuid().ToString("N")[..8]);

    static readonly GptConfig Config = new GptConfig
    {
        Layers = 2, EmbeddingSize = 32, Heads = 4, Positions = 24, VocabSize = 60, EosTokenId = 59, InitializerRange = 0.2f,
    }.WithoutDropout();

    public GptOnnxExporterTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>A model whose LayerNorm weights and biases are random too, so every parameter shapes the rewards.</summary>
    static GptRewardModel Model(RewardPooling pooling = RewardPooling.LastToken, ulong seed = 7)
    {
        var model = GptRewardModel.Create(Config, seed, pooling);
        var rng = new Rng(seed + 100);
        foreach (var e in model.Parameters.Entries)
            if (e.Name.Contains(".ln_", StringComparison.Ordinal) || e.Name.EndsWith(".bias", StringComparison.Ordinal))
                rng.FillNormal(e.Tensor.Data, e.Name.EndsWith(".weight", StringComparison.Ordinal) ? 1f : 0f, 0.1f);
        return model;
    }

    /// <summary>Random right-padded sequences: lengths in [1, maxLength], padding positions holding random ids too.</summary>
    static (int[][] Sequences, TokenBatch Batch) RandomBatch(Random rng, int rows, int maxLength)
    {
        var sequences = new int[rows][];
        for (int b = 0; b < rows; b++)
            sequences[b] = Enumerable.Range(0, rng.Next(1, maxLength + 1)).Select(_ => rng.Next(Config.VocabSize)).ToArray();
        var batch = TokenBatch.FromSequences(sequences, padId: 0);
        for (int b = 0; b < rows; b++)
            for (int t = batch.Lengths[b]; t < batch.Time; t++) batch.Ids[b * batch.Time + t] = rng.Next(Config.VocabSize);
        return (sequences, batch);
    }

    static float[] RewardKitRewards(GptRewardModel model, TokenBatch batch) =>
        model.Forward(new Tape { RecordsGradients = false }, batch).ToArray();

    static float[] OnnxRuntimeRewards(InferenceSession session, TokenBatch batch, long[]? responseMask = null)
    {
        int[] dims = [batch.Batch, batch.Time];
        var mask = batch.AttentionMask().Select(v => (long)v).ToArray();
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor(GptOnnxExporter.InputIds, new DenseTensor<long>(batch.Ids.Select(i => (long)i).ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor(GptOnnxExporter.AttentionMask, new DenseTensor<long>(mask, dims)),
        };
        if (responseMask is not null)
            inputs.Add(NamedOnnxValue.CreateFromTensor(GptOnnxExporter.ResponseMask, new DenseTensor<long>(responseMask, dims)));
        using var results = session.Run(inputs);
        var output = Assert.Single(results);
        Assert.Equal(GptOnnxExporter.Rewards, output.Name);
        Assert.Equal([batch.Batch], output.AsTensor<float>().Dimensions.ToArray());
        return output.AsTensor<float>().ToArray();
    }

    static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"{what}, row {i}: RewardKit {expected[i]}, ONNX Runtime {actual[i]}");
    }

    string Export(GptRewardModel model, OnnxExportOptions options, string name = "model.onnx")
    {
        var path = Path.Combine(_dir, name);
        GptOnnxExporter.Export(model, path, options);
        return path;
    }

    [Fact]
    public void Onnx_runtime_gives_rewardkits_rewards_for_varied_batch_sizes_lengths_and_padding()
    {
        var model = Model();
        using var session = new InferenceSession(Export(model, new OnnxExportOptions { DynamicBatch = true }));
        var rng = new Random(3);
        foreach (var (rows, maxLength) in new[] { (1, 1), (1, 24), (2, 5), (3, 24), (5, 13), (8, 24), (16, 9), (32, 24) })
        {
            var (_, batch) = RandomBatch(rng, rows, maxLength);
            AssertClose(RewardKitRewards(model, batch), OnnxRuntimeRewards(session, batch), $"batch {rows}, T {batch.Time}");
        }
    }

    [Fact]
    public void What_the_padding_positions_hold_does_not_change_the_onnx_rewards()
    {
        var model = Model();
        using var session = new InferenceSession(Export(model, new OnnxExportOptions { DynamicBatch = true }));
        var (sequences, noisy) = RandomBatch(new Random(5), 6, 20);
        var zeros = TokenBatch.FromSequences(sequences, padId: 0);
        var eos = TokenBatch.FromSequences(sequences, padId: Config.EosTokenId!.Value);
        var expected = OnnxRuntimeRewards(session, zeros);
        Assert.Equal(expected, OnnxRuntimeRewards(session, noisy));
        Assert.Equal(expected, OnnxRuntimeRewards(session, eos));
    }

    [Fact]
    public void Without_dynamic_batch_the_batch_dimension_is_fixed_at_one_and_the_sequence_stays_symbolic()
    {
        var model = Model();
        using var session = new InferenceSession(Export(model, new OnnxExportOptions()));
        foreach (var input in session.InputMetadata.Values)
            Assert.Equal([1, -1], input.Dimensions);
        Assert.Equal(["seq"], session.InputMetadata[GptOnnxExporter.InputIds].SymbolicDimensions.Where(s => s.Length > 0));
        foreach (var length in new[] { 1, 7, 24 })
        {
            var batch = TokenBatch.FromSequences([Enumerable.Range(1, length).ToArray()]);
            AssertClose(RewardKitRewards(model, batch), OnnxRuntimeRewards(session, batch), $"length {length}");
        }
    }

    [Fact]
    public void Every_accepted_opset_loads_in_onnx_runtime_and_gives_the_same_rewards()
    {
        var model = Model();
        var (_, batch) = RandomBatch(new Random(9), 4, 24);
        var expected = RewardKitRewards(model, batch);
        for (int opset = OnnxExportOptions.MinOpset; opset <= OnnxExportOptions.MaxOpset; opset++)
        {
            using var session = new InferenceSession(Export(model, new OnnxExportOptions { Opset = opset, DynamicBatch = true }, $"opset{opset}.onnx"));
            AssertClose(expected, OnnxRuntimeRewards(session, batch), $"opset {opset}");
        }
    }

    [Fact]
    public void A_mean_pooled_model_takes_a_response_mask_and_averages_over_it()
    {
        var model = Model(RewardPooling.MeanResponse);
        var path = Export(model, new OnnxExportOptions { DynamicBatch = true });
        using var session = new InferenceSession(path);
        Assert.Equal([GptOnnxExporter.InputIds, GptOnnxExporter.AttentionMask, GptOnnxExporter.ResponseMask], session.InputNames);
        var rng = new Random(11);
        var (sequences, _) = RandomBatch(rng, 7, 24);
        var starts = sequences.Select(s => rng.Next(s.Length)).ToArray();
        var batch = TokenBatch.FromSequences(sequences, 0, starts);
        var responseMask = new long[batch.Batch * batch.Time];
        for (int b = 0; b < batch.Batch; b++)
            for (int t = starts[b]; t < batch.Lengths[b]; t++) responseMask[b * batch.Time + t] = 1;
        AssertClose(RewardKitRewards(model, batch), OnnxRuntimeRewards(session, batch, responseMask), "mean pooling");
    }

    [Fact]
    public void An_int8_folder_exports_its_dequantised_weights_and_says_so_in_the_metadata()
    {
        var floatDir = Path.Combine(_dir, "float");
        RewardModelFolder.Save(Model(), floatDir, new RewardModelMetadata { Name = "tiny-rm" });
        var (model, metadata) = RewardModelFolder.Load(floatDir);
        var layers = QuantizedConv1D.QuantizeWeights(model);
        QuantizedConv1D.WriteDequantized(model, layers);
        var int8Dir = Path.Combine(_dir, "int8");
        QuantizedModelFolder.Save(model, layers, metadata, floatDir, int8Dir);

        var path = Path.Combine(_dir, "int8.onnx");
        var summary = GptOnnxExporter.ExportFolder(int8Dir, path, new OnnxExportOptions { DynamicBatch = true });

        Assert.True(summary.DequantizedInt8);
        var (loaded, _) = RewardModelFolder.Load(int8Dir);
        loaded.Conv1DKernel = null;   // the float path over the dequantised weights
        using var session = new InferenceSession(path);
        var (_, batch) = RandomBatch(new Random(13), 5, 24);
        AssertClose(RewardKitRewards(loaded, batch), OnnxRuntimeRewards(session, batch), "dequantised int8");
        var props = session.ModelMetadata.CustomMetadataMap;
        Assert.StartsWith("dequantized", props["rewardkit.quantization"], StringComparison.Ordinal);
        Assert.Equal(RewardModelMetadata.Load(int8Dir).Version, props["rewardkit.version"]);
        Assert.Equal("RewardKit", session.ModelMetadata.ProducerName);
    }

    [Fact]
    public void Every_parameter_is_an_initializer_under_its_hugging_face_name()
    {
        var model = Model();
        var proto = GptOnnxExporter.Build(model, new OnnxExportOptions());
        var initializers = proto.Graph.Initializer.ToDictionary(t => t.Name);
        foreach (var e in model.Parameters.Entries)
        {
            Assert.True(initializers.TryGetValue(e.Name, out var tensor), e.Name);
            Assert.Equal(e.Tensor.Shape.Select(d => (long)d), tensor.Dims);
            Assert.Equal(e.Tensor.ToArray(), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray());
        }
        Assert.Equal(17, Assert.Single(proto.OpsetImport).Version);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(22)]
    public void An_opset_outside_17_to_21_is_refused_naming_the_option(int opset)
    {
        var e = Assert.Throws<ArgumentException>(() => GptOnnxExporter.Export(Model(), Path.Combine(_dir, "x.onnx"), new OnnxExportOptions { Opset = opset }));
        Assert.Contains("--opset", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "x.onnx")));
    }

    [Fact]
    public void Exporting_a_folder_that_does_not_exist_names_it()
    {
        var missing = Path.Combine(_dir, "nope");
        var e = Assert.Throws<DirectoryNotFoundException>(() => GptOnnxExporter.ExportFolder(missing, Path.Combine(_dir, "x.onnx")));
        Assert.Contains(missing, e.Message);
    }
}
