// Shapes: B batch, T time (padded length), C channels (n_embd), NH heads, hs = C / NH, V vocabulary.
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using RewardKit.Models.Quantization;
using RewardKit.Tensors;

namespace RewardKit.Models;

/// <summary>
/// The int8 path of a <see cref="GptRewardModel"/>'s Conv1D layers (<c>c_attn</c>, <c>attn.c_proj</c>, <c>c_fc</c>,
/// <c>mlp.c_proj</c> of every block): weights int8 per output channel, activations int16 per row, integer GEMM
/// (<see cref="Int8Gemm"/>). Plugged in as <see cref="GptRewardModel.Conv1DKernel"/>; inference only (a tape that records
/// gradients is refused). Embeddings, LayerNorms and the (1, C) score head stay float.
/// </summary>
public sealed class QuantizedConv1D : IConv1DKernel
{
    readonly Dictionary<Tensor, Int8Gemm> _byWeight = new(ReferenceEqualityComparer.Instance);

    /// <summary>Binds int8 layers by their Hugging Face weight names to <paramref name="model"/>'s Conv1D parameters.</summary>
    /// <param name="model">The model whose Conv1D parameters identify the layers.</param>
    /// <param name="layers">Name (e.g. <c>transformer.h.0.attn.c_attn.weight</c>) → (out, in) int8 weights.</param>
    /// <param name="isa">Micro-kernel family (tests force the narrower ones).</param>
    public QuantizedConv1D(GptRewardModel model, IReadOnlyDictionary<string, Int8Matrix> layers, Int8GemmIsa isa = Int8GemmIsa.Auto)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(layers);
        if (!Int8Gemm.IsSupported(isa)) throw new PlatformNotSupportedException($"QuantizedConv1D: this machine cannot run the {isa} kernel.");
        Isa = isa;
        foreach (var (name, weight) in Conv1DWeights(model))
        {
            if (!layers.TryGetValue(name, out var q))
                throw new ArgumentException($"QuantizedConv1D: no int8 weights for layer '{name}'.", nameof(layers));
            int inFeatures = weight.Shape[0], outFeatures = weight.Shape[1];
            if (q.Rows != outFeatures || q.Columns != inFeatures)
                throw new ArgumentException($"QuantizedConv1D: '{name}' is ({q.Rows}, {q.Columns}) int8 but the model's layer is (out {outFeatures}, in {inFeatures}).", nameof(layers));
            _byWeight[weight] = new Int8Gemm(q);
        }
        Layers = layers;
    }

    /// <summary>The int8 layers by Hugging Face weight name, (out, in).</summary>
    public IReadOnlyDictionary<string, Int8Matrix> Layers { get; }

    /// <summary>The micro-kernel family used.</summary>
    public Int8GemmIsa Isa { get; }

    /// <summary>The Conv1D weights the int8 path covers: name and parameter (in, out), four per block.</summary>
    public static IEnumerable<(string Name, Tensor Weight)> Conv1DWeights(GptRewardModel model)
    {
        for (int i = 0; i < model.Blocks.Count; i++)
        {
            var block = model.Blocks[i];
            string prefix = $"{GptRewardModel.BackbonePrefix}h.{i}.";
            yield return (prefix + "attn.c_attn.weight", block.Attention.QkvWeight);
            yield return (prefix + "attn.c_proj.weight", block.Attention.ProjectionWeight);
            yield return (prefix + "mlp.c_fc.weight", block.Mlp.FcWeight);
            yield return (prefix + "mlp.c_proj.weight", block.Mlp.ProjectionWeight);
        }
    }

    /// <summary>Quantises <paramref name="model"/>'s float Conv1D weights, per output channel (symmetric, round to nearest).</summary>
    public static Dictionary<string, Int8Matrix> QuantizeWeights(GptRewardModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = new Dictionary<string, Int8Matrix>(StringComparer.Ordinal);
        foreach (var (name, weight) in Conv1DWeights(model))
            layers[name] = Int8Matrix.Quantize(ToOutIn(weight.Data, weight.Shape[0], weight.Shape[1]), weight.Shape[1], weight.Shape[0]);
        return layers;
    }

    /// <summary>Conv1D (in, out) → (out, in), row-major.</summary>
    public static float[] ToOutIn(ReadOnlySpan<float> inOut, int inFeatures, int outFeatures)
    {
        var t = new float[inOut.Length];
        for (int i = 0; i < inFeatures; i++)
            for (int o = 0; o < outFeatures; o++) t[o * inFeatures + i] = inOut[i * outFeatures + o];
        return t;
    }

    /// <summary>Writes each layer's dequantised weights back into <paramref name="model"/> (Conv1D layout), so the float path computes W ≈ s·q too.</summary>
    public static void WriteDequantized(GptRewardModel model, IReadOnlyDictionary<string, Int8Matrix> layers)
    {
        foreach (var (name, weight) in Conv1DWeights(model))
        {
            var q = layers[name];
            int inFeatures = weight.Shape[0], outFeatures = weight.Shape[1];
            var data = weight.Data;
            for (int i = 0; i < inFeatures; i++)
                for (int o = 0; o < outFeatures; o++) data[i * outFeatures + o] = q.Scales[o] * q.Values[o * inFeatures + i];
        }
    }

    /// <inheritdoc />
    public Tensor Conv1D(Tape tape, Tensor x, Tensor weight, Tensor? bias)
    {
        if (!_byWeight.TryGetValue(weight, out var gemm)) return tape.Conv1D(x, weight, bias);
        if (tape.NeedsGrad(x, weight, bias))
            throw new NotSupportedException("QuantizedConv1D: the int8 layers are for inference only; use a tape with RecordsGradients off, or the float model to train.");
        int inFeatures = gemm.In, outFeatures = gemm.Out;
        if (x.Dim(-1) != inFeatures)
            throw new ArgumentException($"QuantizedConv1D: the last axis of x ({x.Dim(-1)}) must equal the layer's input size ({inFeatures}).", nameof(x));
        int rows = x.Length / inFeatures;
        var shape = (int[])x.Shape.Clone();
        shape[^1] = outFeatures;
        var y = tape.Empty(shape);                                           // (..., out)
        gemm.Multiply(x.Data, rows, y.Data, tape.Pool, Isa);
        if (bias is not null)
        {
            var b = bias.Data;
            var data = y.Data;
            for (int r = 0; r < rows; r++)
            {
                var row = data.Slice(r * outFeatures, outFeatures);
                TensorPrimitives.Add(row, b, row);
            }
        }
        return y;
    }
}
