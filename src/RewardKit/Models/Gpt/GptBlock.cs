// Shapes: B batch, T time (padded length), C channels (n_embd), NH heads, hs = C / NH, V vocabulary.
using RewardKit.Tensors;

namespace RewardKit.Models;

/// <summary>One pre-LayerNorm GPT-2 block: h + attn(ln_1(h)), then h + mlp(ln_2(h)), with residual dropout in training.</summary>
public sealed class GptBlock
{
    readonly GptConfig _config;

    internal GptBlock(ParameterSet.Builder parameters, string prefix, GptConfig config)
    {
        _config = config;
        int c = config.EmbeddingSize;
        Ln1Weight = parameters.Add(prefix + "ln_1.weight", [c], weightDecay: false);
        Ln1Bias = parameters.Add(prefix + "ln_1.bias", [c], weightDecay: false);
        Attention = new CausalSelfAttention(parameters, prefix + "attn.", config);
        Ln2Weight = parameters.Add(prefix + "ln_2.weight", [c], weightDecay: false);
        Ln2Bias = parameters.Add(prefix + "ln_2.bias", [c], weightDecay: false);
        Mlp = new Mlp(parameters, prefix + "mlp.", config);
    }

    /// <summary><c>ln_1.weight</c> (C).</summary>
    public Tensor Ln1Weight { get; }

    /// <summary><c>ln_1.bias</c> (C).</summary>
    public Tensor Ln1Bias { get; }

    /// <summary>The attention sub-layer (<c>attn.*</c>).</summary>
    public CausalSelfAttention Attention { get; }

    /// <summary><c>ln_2.weight</c> (C).</summary>
    public Tensor Ln2Weight { get; }

    /// <summary><c>ln_2.bias</c> (C).</summary>
    public Tensor Ln2Bias { get; }

    /// <summary>The MLP sub-layer (<c>mlp.*</c>).</summary>
    public Mlp Mlp { get; }

    /// <summary>The block applied to the residual stream.</summary>
    /// <param name="tape">The tape recording the step.</param>
    /// <param name="h">(B, T, C) the residual stream.</param>
    /// <param name="keyMask">(B, T) 1 for a real token, 0 for padding.</param>
    /// <param name="dropout">Dropout state: off outside training.</param>
    /// <param name="conv1D">How the Conv1D layers are applied; null is the float op.</param>
    /// <param name="cache">Generation's prefill: where this block's keys and values go (layer <paramref name="layer"/>); null otherwise.</param>
    /// <param name="layer">This block's index (with a cache).</param>
    /// <returns>(B, T, C).</returns>
    internal Tensor Forward(Tape tape, Tensor h, Tensor keyMask, DropoutState dropout, IConv1DKernel? conv1D = null, KvCache? cache = null, int layer = 0)
    {
        float eps = _config.LayerNormEpsilon;
        var y = Attention.Mix(tape, tape.LayerNorm(h, Ln1Weight, Ln1Bias, eps), keyMask, conv1D, cache, layer);   // (B, T, C)
        var a = Attention.Project(tape, y, conv1D);                                                         // (B, T, C)
        h = Residual(tape, h, a, dropout);
        var m = Mlp.Forward(tape, tape.LayerNorm(h, Ln2Weight, Ln2Bias, eps), conv1D);           // (B, T, C)
        return Residual(tape, h, m, dropout);
    }

    /// <summary>
    /// h + dropout(sublayer). No backward reads the sub-layer's output values (c_proj's and the add's backward use only
    /// gradients, dropout's its mask), so they go back to the arena at once: two (B, T, C) buffers per block fewer.
    /// </summary>
    Tensor Residual(Tape tape, Tensor h, Tensor sublayer, DropoutState dropout)
    {
        var dropped = dropout.Apply(tape, sublayer, _config.ResidualDropout);
        var sum = tape.Add(h, dropped);
        tape.Release(sublayer);
        if (!ReferenceEquals(dropped, sublayer)) tape.Release(dropped);
        return sum;
    }

    /// <summary>
    /// The block's output at <paramref name="rows"/> only (rows of h viewed as (B·T, C)), for the last block, whose other rows
    /// reach no reward: attention still reads every position's keys and values, but c_proj, the residual adds, ln_2 and the
    /// MLP, which are position-wise, run on those rows alone. Each returned row is bit for bit the row <see cref="Forward"/>
    /// computes; without residual dropout only (its masks are drawn per element of the full tensor).
    /// </summary>
    /// <param name="tape">The tape recording the step.</param>
    /// <param name="h">(B, T, C) the residual stream.</param>
    /// <param name="keyMask">(B, T) 1 for a real token, 0 for padding.</param>
    /// <param name="rows">Indices into the B·T positions.</param>
    /// <param name="conv1D">How the Conv1D layers are applied; null is the float op.</param>
    /// <param name="cache">Generation's prefill: where this block's keys and values go (layer <paramref name="layer"/>); null otherwise.</param>
    /// <param name="layer">This block's index (with a cache).</param>
    /// <returns>(rows, C).</returns>
    internal Tensor ForwardRows(Tape tape, Tensor h, Tensor keyMask, int[] rows, IConv1DKernel? conv1D = null, KvCache? cache = null, int layer = 0)
    {
        float eps = _config.LayerNormEpsilon;
        int b = h.Dim(0), t = h.Dim(1), c = h.Dim(2);
        var y = Attention.Mix(tape, tape.LayerNorm(h, Ln1Weight, Ln1Bias, eps), keyMask, conv1D, cache, layer);   // (B, T, C)
        var a = Attention.Project(tape, tape.GatherRows(y.Reshape(b * t, c), rows), conv1D);          // (R, C)
        return PositionWise(tape, tape.GatherRows(h.Reshape(b * t, c), rows), a, conv1D);
    }

    /// <summary>
    /// The block for one new token per sequence with a KV cache (generation's decode step, inference only): attention over
    /// each sequence's cached keys and values (extended by this token's), then the position-wise layers.
    /// </summary>
    /// <param name="tape">An inference tape.</param>
    /// <param name="h">(A, C) the new tokens' residual stream.</param>
    /// <param name="cache">The cache, read and extended at layer <paramref name="layer"/>.</param>
    /// <param name="layer">This block's index.</param>
    /// <param name="step">Each sequence's slot and position.</param>
    /// <param name="conv1D">How the Conv1D layers are applied; null is the float op.</param>
    /// <returns>(A, C).</returns>
    internal Tensor Decode(Tape tape, Tensor h, KvCache cache, int layer, DecodePositions step, IConv1DKernel? conv1D = null)
    {
        var y = Attention.MixCached(tape, tape.LayerNorm(h, Ln1Weight, Ln1Bias, _config.LayerNormEpsilon), cache, layer, step, conv1D);   // (A, C)
        return PositionWise(tape, h, Attention.Project(tape, y, conv1D), conv1D);
    }

    /// <summary>h + a, then + mlp(ln_2(h + a)): the block's tail on rows (no dropout).</summary>
    Tensor PositionWise(Tape tape, Tensor h, Tensor a, IConv1DKernel? conv1D)
    {
        var hr = tape.Add(h, a);                                                                     // (R, C)
        var m = Mlp.Forward(tape, tape.LayerNorm(hr, Ln2Weight, Ln2Bias, _config.LayerNormEpsilon), conv1D);   // (R, C)
        return tape.Add(hr, m);
    }
}

/// <summary>Where the decode step's tokens go: cache slot, position (= tokens already cached) and keys seen (position + 1) per sequence.</summary>
internal sealed record DecodePositions(int[] Slots, int[] Positions, int[] KeyCounts);

/// <summary>Whether dropout is on (training) and where its masks come from.</summary>
readonly record struct DropoutState(bool Training, Rng? Rng)
{
    public Tensor Apply(Tape tape, Tensor x, float p) =>
        Training && p > 0 ? tape.Dropout(x, p, Rng!) : x;
}
