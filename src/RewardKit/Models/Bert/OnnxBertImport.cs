using System.Text.RegularExpressions;
using RewardKit.Onnx;

namespace RewardKit.Models.Bert;

/// <summary>
/// Reads a BERT encoder's weights out of an ONNX export (PyTorch's <c>torch.onnx.export</c> of a Hugging Face <c>BertModel</c>)
/// under Hugging Face names, with the <see cref="BertConfig"/> the graph implies. Exports keep the embeddings, biases and
/// LayerNorms under their module names but store the Linear weights as <c>MatMul</c> B operands, transposed ([in, out])
/// and under generic names (<c>onnx::MatMul_123</c>, or bare numbers): each is named by following the graph from its MatMul
/// to the <c>Add</c> of its bias (<c>...query.bias</c> names <c>...query.weight</c>) and transposed back to [out, in].
/// <c>Gemm</c> nodes (the pooler) are read with their <c>transB</c> attribute.
/// </summary>
public static partial class OnnxBertImport
{
    /// <summary>The encoder's tensors under Hugging Face <c>BertModel</c> names (no <c>bert.</c> prefix) and its config.</summary>
    public static (BertConfig Config, Dictionary<string, (int[] Shape, float[] Values)> Tensors) Read(OnnxModelFile onnx)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var tensors = new Dictionary<string, (int[] Shape, float[] Values)>(StringComparer.Ordinal);
        foreach (var t in onnx.Initializers.Values)
            if (t.Floats is not null && ToBertName(t.Name) is { } name) tensors[name] = (t.Shape, t.Floats);

        var consumers = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
        foreach (var node in onnx.Nodes)
            foreach (var input in node.Inputs)
                (consumers.TryGetValue(input, out var list) ? list : consumers[input] = []).Add(node);

        foreach (var node in onnx.Nodes)
        {
            if (node.OpType == "MatMul" && node.Inputs.Length == 2 && Weight(onnx, node.Inputs[1]) is { } w)
            {
                if (ToBertName(w.Name) is not null) continue;   // already named
                var bias = BiasAfter(onnx, consumers, node.Outputs[0]);
                if (bias is null) continue;                     // attention's Q·Kᵀ and P·V have no initializer operand; others stay unnamed
                tensors[bias[..^".bias".Length] + ".weight"] = ([w.Shape[1], w.Shape[0]], Transpose(w.Floats!, w.Shape[0], w.Shape[1]));
            }
            else if (node.OpType == "Gemm" && node.Inputs.Length == 3 && Weight(onnx, node.Inputs[1]) is { } g
                     && onnx.Initializers.TryGetValue(node.Inputs[2], out var gb) && ToBertName(gb.Name) is { } biasName)
            {
                bool transposed = node.Attributes.TryGetValue("transB", out var tb) && tb != 0;   // transB = 1: stored (out, in)
                tensors[biasName[..^".bias".Length] + ".weight"] = transposed ? (g.Shape, g.Floats!) : ([g.Shape[1], g.Shape[0]], Transpose(g.Floats!, g.Shape[0], g.Shape[1]));
            }
        }
        return (ConfigOf(onnx, tensors), tensors);
    }

    /// <summary>A rank-2 float initializer (a weight matrix), or null.</summary>
    static OnnxTensor? Weight(OnnxModelFile onnx, string name) =>
        onnx.Initializers.TryGetValue(name, out var t) && t.Shape.Length == 2 && t.Floats is not null ? t : null;

    /// <summary>The Hugging Face name of the bias added to <paramref name="value"/> by the next <c>Add</c>, or null.</summary>
    static string? BiasAfter(OnnxModelFile onnx, Dictionary<string, List<OnnxNode>> consumers, string value)
    {
        if (!consumers.TryGetValue(value, out var next)) return null;
        foreach (var add in next.Where(n => n.OpType == "Add"))
            foreach (var input in add.Inputs)
                if (input != value && onnx.Initializers.TryGetValue(input, out var b) && b.Shape.Length == 1
                    && ToBertName(b.Name) is { } name && name.EndsWith(".bias", StringComparison.Ordinal))
                    return name;
        return null;
    }

    [GeneratedRegex(@"^(?:bert\.)?((?:embeddings|encoder\.layer\.\d+|pooler)\..+\.(?:weight|bias))$")]
    private static partial Regex BertNamePattern();

    /// <summary>The <c>BertModel</c> name of a tensor (<c>bert.</c> prefix dropped), or null when it is not one.</summary>
    static string? ToBertName(string name)
    {
        var m = BertNamePattern().Match(name);
        return m.Success ? m.Groups[1].Value : null;
    }

    static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) result[c * rows + r] = values[r * columns + c];
        return result;
    }

    static BertConfig ConfigOf(OnnxModelFile onnx, Dictionary<string, (int[] Shape, float[] Values)> tensors)
    {
        (int[] Shape, float[] Values) Need(string name) => tensors.TryGetValue(name, out var t) ? t
            : throw new InvalidDataException($"{onnx.Source}: no '{name}' in the ONNX graph; is it a BERT encoder exported from PyTorch (not an optimised graph with fused Attention nodes)?");
        var words = Need("embeddings.word_embeddings.weight");
        int hidden = words.Shape[1];
        int layers = 0;
        while (tensors.ContainsKey($"encoder.layer.{layers}.attention.output.LayerNorm.weight")) layers++;
        for (int i = 0; i < layers; i++)
            foreach (var part in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense" })
                Need($"encoder.layer.{i}.{part}.weight");
        return new BertConfig
        {
            VocabSize = words.Shape[0],
            HiddenSize = hidden,
            Layers = layers,
            Heads = HeadsOf(onnx, hidden),
            IntermediateSize = Need("encoder.layer.0.intermediate.dense.bias").Shape[0],
            MaxPositions = Need("embeddings.position_embeddings.weight").Shape[0],
            TypeVocabSize = tensors.TryGetValue("embeddings.token_type_embeddings.weight", out var types) ? types.Shape[0] : 1,
            LayerNormEpsilon = EpsilonOf(onnx) ?? 1e-12f,
        }.Validate();
    }

    /// <summary>
    /// The head count from the graph: attention reshapes (B, T, C) to (B, T, NH, hs), with NH and hs as int64 constants
    /// (concatenated with the dynamic B and T, or in one constant shape); the first (NH, hs) with NH·hs = C wins.
    /// </summary>
    static int HeadsOf(OnnxModelFile onnx, int hidden)
    {
        var constants = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var t in onnx.Initializers.Values) if (t.Integers is not null) constants[t.Name] = t.Integers;
        foreach (var n in onnx.Nodes) if (n.TensorValue?.Integers is { } v) constants[n.Outputs[0]] = v;
        foreach (var node in onnx.Nodes)
        {
            IEnumerable<long> values = node.OpType switch
            {
                "Concat" => node.Inputs.SelectMany(i => constants.TryGetValue(i, out var v) ? v : []),
                "Reshape" when node.Inputs.Length == 2 && constants.TryGetValue(node.Inputs[1], out var shape) && shape.Length == 4 => shape,
                _ => [],
            };
            var tail = values.TakeLast(2).ToArray();
            if (tail.Length == 2 && tail[0] > 1 && tail[1] > 1 && tail[0] * tail[1] == hidden) return (int)tail[0];
        }
        throw new InvalidDataException($"{onnx.Source}: could not find the number of attention heads in the graph (no reshape to (B, T, NH, C/NH)); convert the model to a Hugging Face folder with its config.json instead.");
    }

    /// <summary>LayerNorm's epsilon: the constant added to the variance before the first <c>Sqrt</c>, or null.</summary>
    static float? EpsilonOf(OnnxModelFile onnx)
    {
        var producers = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        var scalars = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var n in onnx.Nodes)
        {
            foreach (var o in n.Outputs) producers[o] = n;
            if (n.TensorValue?.Floats is [var f]) scalars[n.Outputs[0]] = f;
        }
        foreach (var t in onnx.Initializers.Values) if (t.Floats is [var f]) scalars[t.Name] = f;
        var sqrt = onnx.Nodes.FirstOrDefault(n => n.OpType == "Sqrt");
        if (sqrt is not null && producers.TryGetValue(sqrt.Inputs[0], out var add) && add.OpType == "Add")
            foreach (var input in add.Inputs)
                if (scalars.TryGetValue(input, out var eps)) return eps;
        var fused = onnx.Nodes.FirstOrDefault(n => n.OpType == "LayerNormalization");
        return fused is not null && fused.Attributes.TryGetValue("epsilon", out var e) ? (float)e : null;
    }
}
