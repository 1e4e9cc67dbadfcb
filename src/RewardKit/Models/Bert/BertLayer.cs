// Shapes: B batch, T time (padded length), C hidden_size, NH heads, hs = C / NH, F intermediate_size.
using RewardKit.Tensors;

namespace RewardKit.Models.Bert;

/// <summary>
/// One post-LayerNorm BERT layer (Hugging Face <c>BertLayer</c>):
/// <code>
/// a = attention.output.dense(selfattn(h))           h1 = attention.output.LayerNorm(h + dropout(a))
/// f = output.dense(gelu(intermediate.dense(h1)))    h2 = output.LayerNorm(h1 + dropout(f))
/// </code>
/// query/key/value are separate (out, in) Linear weights under their Hugging Face names; the forward concatenates them
/// into one (3C, C) weight so the projection is one GEMM feeding the fused attention ([q | k | v] layout).
/// </summary>
public sealed class BertLayer
{
    readonly BertConfig _config;

    internal BertLayer(ParameterSet.Builder p, string prefix, BertConfig config)
    {
        _config = config;
        int c = config.HiddenSize, f = config.IntermediateSize;
        QueryWeight = p.Add(prefix + "attention.self.query.weight", [c, c]);
        QueryBias = p.Add(prefix + "attention.self.query.bias", [c], weightDecay: false);
        KeyWeight = p.Add(prefix + "attention.self.key.weight", [c, c]);
        KeyBias = p.Add(prefix + "attention.self.key.bias", [c], weightDecay: false);
        ValueWeight = p.Add(prefix + "attention.self.value.weight", [c, c]);
        ValueBias = p.Add(prefix + "attention.self.value.bias", [c], weightDecay: false);
        AttentionOutputWeight = p.Add(prefix + "attention.output.dense.weight", [c, c]);
        AttentionOutputBias = p.Add(prefix + "attention.output.dense.bias", [c], weightDecay: false);
        AttentionNormWeight = p.Add(prefix + "attention.output.LayerNorm.weight", [c], weightDecay: false);
        AttentionNormBias = p.Add(prefix + "attention.output.LayerNorm.bias", [c], weightDecay: false);
        IntermediateWeight = p.Add(prefix + "intermediate.dense.weight", [f, c]);
        IntermediateBias = p.Add(prefix + "intermediate.dense.bias", [f], weightDecay: false);
        OutputWeight = p.Add(prefix + "output.dense.weight", [c, f]);
        OutputBias = p.Add(prefix + "output.dense.bias", [c], weightDecay: false);
        OutputNormWeight = p.Add(prefix + "output.LayerNorm.weight", [c], weightDecay: false);
        OutputNormBias = p.Add(prefix + "output.LayerNorm.bias", [c], weightDecay: false);
    }

    /// <summary><c>attention.self.query.weight</c> (C, C), Linear layout [out, in].</summary>
    public Tensor QueryWeight { get; }
    /// <summary><c>attention.self.query.bias</c> (C).</summary>
    public Tensor QueryBias { get; }
    /// <summary><c>attention.self.key.weight</c> (C, C).</summary>
    public Tensor KeyWeight { get; }
    /// <summary><c>attention.self.key.bias</c> (C).</summary>
    public Tensor KeyBias { get; }
    /// <summary><c>attention.self.value.weight</c> (C, C).</summary>
    public Tensor ValueWeight { get; }
    /// <summary><c>attention.self.value.bias</c> (C).</summary>
    public Tensor ValueBias { get; }
    /// <summary><c>attention.output.dense.weight</c> (C, C).</summary>
    public Tensor AttentionOutputWeight { get; }
    /// <summary><c>attention.output.dense.bias</c> (C).</summary>
    public Tensor AttentionOutputBias { get; }
    /// <summary><c>attention.output.LayerNorm.weight</c> (C).</summary>
    public Tensor AttentionNormWeight { get; }
    /// <summary><c>attention.output.LayerNorm.bias</c> (C).</summary>
    public Tensor AttentionNormBias { get; }
    /// <summary><c>intermediate.dense.weight</c> (F, C).</summary>
    public Tensor IntermediateWeight { get; }
    /// <summary><c>intermediate.dense.bias</c> (F).</summary>
    public Tensor IntermediateBias { get; }
    /// <summary><c>output.dense.weight</c> (C, F).</summary>
    public Tensor OutputWeight { get; }
    /// <summary><c>output.dense.bias</c> (C).</summary>
    public Tensor OutputBias { get; }
    /// <summary><c>output.LayerNorm.weight</c> (C).</summary>
    public Tensor OutputNormWeight { get; }
    /// <summary><c>output.LayerNorm.bias</c> (C).</summary>
    public Tensor OutputNormBias { get; }

    /// <summary>The layer applied to the hidden states.</summary>
    /// <param name="tape">The tape recording the step.</param>
    /// <param name="h">(B, T, C).</param>
    /// <param name="keyMask">(B, T) 1 for a real token, 0 for padding.</param>
    /// <param name="dropout">Dropout state: off outside training.</param>
    /// <returns>(B, T, C).</returns>
    internal Tensor Forward(Tape tape, Tensor h, Tensor keyMask, DropoutState dropout)
    {
        float eps = _config.LayerNormEpsilon, p = _config.HiddenDropout;
        var qkvWeight = tape.Concat([QueryWeight, KeyWeight, ValueWeight], 0);                  // (3C, C)
        var qkvBias = tape.Concat([QueryBias, KeyBias, ValueBias], 0);                          // (3C)
        var qkv = tape.Linear(h, qkvWeight, qkvBias);                                          // (B, T, 3C) [q | k | v]
        var mixed = tape.BidirectionalSelfAttention(qkv, _config.Heads, keyMask);             // (B, T, C)
        var a = dropout.Apply(tape, tape.Linear(mixed, AttentionOutputWeight, AttentionOutputBias), p);
        var h1 = tape.LayerNorm(tape.Add(h, a), AttentionNormWeight, AttentionNormBias, eps);  // (B, T, C)
        var inner = tape.GeluErf(tape.Linear(h1, IntermediateWeight, IntermediateBias));      // (B, T, F)
        var f = dropout.Apply(tape, tape.Linear(inner, OutputWeight, OutputBias), p);          // (B, T, C)
        return tape.LayerNorm(tape.Add(h1, f), OutputNormWeight, OutputNormBias, eps);        // (B, T, C)
    }
}
