// Shapes: B batch, T time (padded length), C channels (n_embd), NH heads, hs = C / NH.
using System.Globalization;
using Google.Protobuf;
using Onnx;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Tensors;
using DataType = Onnx.TensorProto.Types.DataType;

namespace RewardKit.Export;

/// <summary>What <see cref="GptOnnxExporter"/> wrote.</summary>
/// <param name="Path">The .onnx file.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Opset">The operator set it imports.</param>
/// <param name="DynamicBatch">Whether the batch dimension is symbolic.</param>
/// <param name="Pooling">Where the graph reads the reward.</param>
/// <param name="Inputs">The graph's input names, in order.</param>
/// <param name="Parameters">Scalar weights stored as initializers.</param>
/// <param name="DequantizedInt8">True when the source was an int8 folder and its dequantised weights were written.</param>
public sealed record OnnxExportSummary(string Path, long Bytes, int Opset, bool DynamicBatch, RewardPooling Pooling,
    IReadOnlyList<string> Inputs, long Parameters, bool DequantizedInt8);

/// <summary>
/// Writes a <see cref="GptRewardModel"/> as a standard ONNX graph that computes its rewards:
/// <code>
/// input_ids (int64, [batch, seq]), attention_mask (int64, [batch, seq]: 1 real token, 0 padding)  →  rewards (float, [batch])
/// h = wte[input_ids] + wpe[0..seq)
/// each block: h = h + c_proj(attn(ln_1(h))), h = h + mlp(ln_2(h))    causal attention, padding keys masked, gelu_new
/// rewards = ln_f(h)[b, last real token] · score.weightᵀ
/// </code>
/// The last real token of a row is the last position whose mask is 1 (right padding, as RewardKit batches it). As in
/// RewardKit's forward, the last block's position-wise layers run only on those rows (the reward is the same).
/// A mean-pooled model (<see cref="RewardPooling.MeanResponse"/>) takes a third input, <c>response_mask</c> (int64,
/// [batch, seq], 1 on the response tokens), and its reward is the mean of the per-token rewards over them.
/// Weights are initializers under their Hugging Face names; the operators are those of opset 17 (LayerNormalization
/// included; gelu_new is composed, as the Gelu operator arrives only in opset 20).
/// </summary>
public static class GptOnnxExporter
{
    /// <summary>The token-id input, int64 [batch, seq].</summary>
    public const string InputIds = "input_ids";

    /// <summary>The padding-mask input, int64 [batch, seq]: 1 for a real token, 0 for padding.</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>Mean-pooled models only: int64 [batch, seq], 1 on the response tokens the reward averages over.</summary>
    public const string ResponseMask = "response_mask";

    /// <summary>The output, float [batch].</summary>
    public const string Rewards = "rewards";

    /// <summary>
    /// Exports the model folder <paramref name="modelDirectory"/> to <paramref name="outputPath"/> (written atomically).
    /// An int8 folder (<c>rewardkit quantize</c>) is exported with its dequantised weights (s·q, the values its
    /// <c>model.safetensors</c> holds): ONNX Runtime then computes the weight-quantised model in float, without the int16
    /// rounding of activations that RewardKit's int8 kernel adds.
    /// </summary>
    public static OnnxExportSummary ExportFolder(string modelDirectory, string outputPath, OnnxExportOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(modelDirectory))
            throw new DirectoryNotFoundException($"{modelDirectory}: model folder not found; pass a folder made by `rewardkit train`.");
        options = (options ?? new OnnxExportOptions()).Validate();   // before reading the weights
        var (model, metadata) = RewardModelFolder.Load(modelDirectory);
        bool int8 = QuantizedModelFolder.IsQuantized(metadata);
        var properties = new Dictionary<string, string>
        {
            ["rewardkit.name"] = metadata.Name,
            ["rewardkit.version"] = metadata.Version,
            ["rewardkit.template"] = metadata.Template,
            ["rewardkit.max_length"] = metadata.MaxLength.ToString(CultureInfo.InvariantCulture),
            ["rewardkit.append_eos"] = metadata.AppendEndOfText ? "true" : "false",
        };
        if (int8) properties["rewardkit.quantization"] = "dequantized: int8 weights written as float s*q; activations not quantised";
        return Export(model, outputPath, options, properties, cancellationToken) with { DequantizedInt8 = int8 };
    }

    /// <summary>Exports <paramref name="model"/> to <paramref name="outputPath"/> (written atomically); <paramref name="metadata"/> become metadata_props.</summary>
    public static OnnxExportSummary Export(GptRewardModel model, string outputPath, OnnxExportOptions? options = null,
        IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        options = (options ?? new OnnxExportOptions()).Validate();
        var full = Path.GetFullPath(outputPath);
        if (Path.GetDirectoryName(full) is { } dir && !Directory.Exists(dir))
            throw new DirectoryNotFoundException($"--out {outputPath}: the folder {dir} does not exist; create it first.");
        var proto = Build(model, options, metadata, cancellationToken);
        AtomicFile.Write(full, stream => proto.WriteTo(stream));
        return new OnnxExportSummary(full, new FileInfo(full).Length, options.Opset, options.DynamicBatch, model.Pooling,
            proto.Graph.Input.Select(i => i.Name).ToArray(), model.ParameterCount, DequantizedInt8: false);
    }

    /// <summary>The ONNX model of <paramref name="model"/>.</summary>
    internal static ModelProto Build(GptRewardModel model, OnnxExportOptions options, IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        var g = new OnnxGraphBuilder();
        var weights = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var e in model.Parameters.Entries)
            weights[e.Tensor] = g.Initializer(e.Name, e.Tensor.Shape, e.Tensor.Data);
        string W(Tensor t) => weights[t];

        object batch = options.DynamicBatch ? "batch" : 1;
        g.Graph.Name = "rewardkit_gpt2_reward_model";
        g.Graph.Input.Add(OnnxGraphBuilder.Value(InputIds, DataType.Int64, batch, "seq"));
        g.Graph.Input.Add(OnnxGraphBuilder.Value(AttentionMask, DataType.Int64, batch, "seq"));
        if (model.Pooling == RewardPooling.MeanResponse)
            g.Graph.Input.Add(OnnxGraphBuilder.Value(ResponseMask, DataType.Int64, batch, "seq"));
        g.Graph.Output.Add(OnnxGraphBuilder.Value(Rewards, DataType.Float, batch));

        var (h, allowed, positions) = Embed(g, model, W);                                   // (B, T, C)
        int last = model.Blocks.Count - 1;
        for (int i = 0; i < last; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            g.Scope = $"/transformer.h.{i}";
            h = Block(g, model.Blocks[i], model.Config, h, allowed, W);                     // (B, T, C)
        }
        g.Scope = $"/transformer.h.{last}";
        if (model.Pooling == RewardPooling.LastToken)
            LastTokenReward(g, model, h, allowed, positions, W);
        else
            MeanResponseReward(g, model, Block(g, model.Blocks[last], model.Config, h, allowed, W), W);
        return Model(g, options, metadata);
    }

    static ModelProto Model(OnnxGraphBuilder g, OnnxExportOptions options, IReadOnlyDictionary<string, string>? metadata)
    {
        var proto = new ModelProto
        {
            IrVersion = options.IrVersion,
            ProducerName = "RewardKit",
            ProducerVersion = typeof(GptOnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            DocString = "GPT-2 reward model: input_ids, attention_mask (1 real, 0 padding; right-padded) -> rewards",
            Graph = g.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }

    /// <summary>
    /// h = wte[ids] + wpe[0..T) (B, T, C); the attention's allowed (query, key) pairs (B, 1, T, T): key ≤ query and key
    /// real; and the positions 0..T-1 (T).
    /// </summary>
    static (string H, string Allowed, string Positions) Embed(OnnxGraphBuilder g, GptRewardModel model, Func<Tensor, string> w)
    {
        g.Scope = "/transformer";
        var t = g.Gather(g.Node("Shape", [InputIds]), g.Int64s([1], scalar: true));                 // () T
        var positions = g.Node("Range", [g.Int64s([0], scalar: true), t, g.Int64s([1], scalar: true)]);   // (T)
        var h = g.Add(g.Gather(w(model.TokenEmbedding), InputIds), g.Gather(w(model.PositionEmbedding), positions));
        var causal = g.Node("LessOrEqual", [g.Unsqueeze(positions, 0), g.Unsqueeze(positions, 1)]);  // (T, T) [q, k]: k ≤ q
        var realKeys = g.Unsqueeze(g.Cast(AttentionMask, DataType.Bool), 1, 2);                      // (B, 1, 1, T)
        return (h, g.Node("And", [causal, realKeys]), positions);
    }

    /// <summary>One pre-LN block over every row: h + attn(ln_1(h)), then + mlp(ln_2(h)). (B, T, C) → (B, T, C).</summary>
    static string Block(OnnxGraphBuilder g, GptBlock block, GptConfig config, string h, string allowed, Func<Tensor, string> w)
    {
        var x = g.LayerNorm(h, w(block.Ln1Weight), w(block.Ln1Bias), config.LayerNormEpsilon);
        var a = Conv1D(g, AttentionMix(g, block.Attention, config, x, allowed, w), block.Attention.ProjectionWeight, block.Attention.ProjectionBias, w);
        h = g.Add(h, a);
        var m = Mlp(g, block.Mlp, g.LayerNorm(h, w(block.Ln2Weight), w(block.Ln2Bias), config.LayerNormEpsilon), w);
        return g.Add(h, m);
    }

    /// <summary>
    /// c_attn, then causal softmax attention over the allowed keys, heads re-assembled (before c_proj). (B, T, C) → (B, T, C).
    /// Masked scores are set to float.MinValue (not −∞, so a row with no allowed key cannot produce NaN), as Hugging Face does.
    /// </summary>
    static string AttentionMix(OnnxGraphBuilder g, CausalSelfAttention attention, GptConfig config, string x, string allowed, Func<Tensor, string> w)
    {
        using var scope = g.Enter("attn");
        int c = config.EmbeddingSize, nh = config.Heads, hs = config.HeadSize;
        var qkv = Conv1D(g, x, attention.QkvWeight, attention.QkvBias, w);                           // (B, T, 3C)
        var split = g.Node("Split", [qkv, g.Int64s([c, c, c])], 3, OnnxGraphBuilder.Int("axis", 2));
        var q = g.Transpose(g.Reshape(split[0], 0, 0, nh, hs), 0, 2, 1, 3);                          // (B, NH, T, hs)
        var kT = g.Transpose(g.Reshape(split[1], 0, 0, nh, hs), 0, 2, 3, 1);                         // (B, NH, hs, T)
        var v = g.Transpose(g.Reshape(split[2], 0, 0, nh, hs), 0, 2, 1, 3);                          // (B, NH, T, hs)
        var scores = g.Mul(g.MatMul(q, kT), g.Float(1f / MathF.Sqrt(hs)));                           // (B, NH, T, T)
        var probs = g.Softmax(g.Where(allowed, scores, g.Float(float.MinValue)), -1);
        var y = g.Transpose(g.MatMul(probs, v), 0, 2, 1, 3);                                          // (B, T, NH, hs)
        return g.Reshape(y, 0, 0, c);                                                                 // (B, T, C)
    }

    /// <summary>c_proj(gelu_new(c_fc(x))): (..., C) → (..., C).</summary>
    static string Mlp(OnnxGraphBuilder g, Mlp mlp, string x, Func<Tensor, string> w)
    {
        using var scope = g.Enter("mlp");
        return Conv1D(g, GeluNew(g, Conv1D(g, x, mlp.FcWeight, mlp.FcBias, w)), mlp.ProjectionWeight, mlp.ProjectionBias, w);
    }

    /// <summary>GPT-2's Conv1D: x · W + b with W stored [in, out].</summary>
    static string Conv1D(OnnxGraphBuilder g, string x, Tensor weight, Tensor bias, Func<Tensor, string> w) =>
        g.Add(g.MatMul(x, w(weight)), w(bias));

    /// <summary>gelu_new (the tanh GELU): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    static string GeluNew(OnnxGraphBuilder g, string x)
    {
        var cube = g.Mul(g.Mul(x, x), x);
        var inner = g.Mul(g.Add(x, g.Mul(cube, g.Float(0.044715f))), g.Float(MathF.Sqrt(2f / MathF.PI)));
        return g.Mul(g.Mul(x, g.Float(0.5f)), g.Add(g.Tanh(inner), g.Float(1f)));
    }

    /// <summary>
    /// The last block on the B rows the reward reads (attention still over every position), then ln_f and the score:
    /// rewards (B). The row of batch b is the last position whose mask is 1: argmax over t of mask[b, t]·(t + 1).
    /// </summary>
    static void LastTokenReward(OnnxGraphBuilder g, GptRewardModel model, string h, string allowed, string positions, Func<Tensor, string> w)
    {
        var config = model.Config;
        var block = model.Blocks[^1];
        var weighted = g.Mul(g.Cast(AttentionMask, DataType.Float), g.Cast(g.Add(positions, g.Int64s([1], scalar: true)), DataType.Float));
        var lastIndex = g.Node("ArgMax", [weighted], OnnxGraphBuilder.Int("axis", 1), OnnxGraphBuilder.Int("keepdims", 1));   // (B, 1)
        string Rows(string x) => g.Node("GatherND", [x, lastIndex], OnnxGraphBuilder.Int("batch_dims", 1));               // (B, C)

        var x = g.LayerNorm(h, w(block.Ln1Weight), w(block.Ln1Bias), config.LayerNormEpsilon);
        var mixed = Rows(AttentionMix(g, block.Attention, config, x, allowed, w));                                         // (B, C)
        var hr = g.Add(Rows(h), Conv1D(g, mixed, block.Attention.ProjectionWeight, block.Attention.ProjectionBias, w));    // (B, C)
        hr = g.Add(hr, Mlp(g, block.Mlp, g.LayerNorm(hr, w(block.Ln2Weight), w(block.Ln2Bias), config.LayerNormEpsilon), w));
        g.Scope = "/score";
        var normed = g.LayerNorm(hr, w(model.FinalNormWeight), w(model.FinalNormBias), config.LayerNormEpsilon);           // (B, C)
        var score = g.Node("Gemm", [normed, w(model.ScoreWeight)], OnnxGraphBuilder.Int("transB", 1));                     // (B, 1)
        g.NodeInto(Rewards, "Reshape", [score, g.Int64s([-1])]);                                                            // (B)
    }

    /// <summary>rewards = Σ_t score(ln_f(h))[b, t]·response_mask[b, t] / Σ_t response_mask[b, t]. (B, T, C) → (B).</summary>
    static void MeanResponseReward(OnnxGraphBuilder g, GptRewardModel model, string h, Func<Tensor, string> w)
    {
        g.Scope = "/score";
        var normed = g.LayerNorm(h, w(model.FinalNormWeight), w(model.FinalNormBias), model.Config.LayerNormEpsilon);    // (B, T, C)
        var perToken = g.MatMul(normed, g.Transpose(w(model.ScoreWeight), 1, 0));                                          // (B, T, 1)
        var perTokenBT = g.Node("Squeeze", [perToken, g.Int64s([2])]);                                                    // (B, T)
        var response = g.Cast(ResponseMask, DataType.Float);                                                                // (B, T)
        var total = g.ReduceSum(g.Mul(perTokenBT, response), 1, keepDims: false);                                         // (B)
        g.NodeInto(Rewards, "Div", [total, g.ReduceSum(response, 1, keepDims: false)]);
    }
}
