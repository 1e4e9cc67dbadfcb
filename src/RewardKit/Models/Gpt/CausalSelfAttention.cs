// Shapes: B batch, T time (padded length), C channels (n_embd), NH heads, hs = C / NH, V vocabulary.
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Models;

/// <summary>
/// GPT-2's attention: a fused Conv1D <c>c_attn</c> (C → 3C, laid out [q | k | v]), causal multi-head softmax attention
/// with padding keys masked out, and the output projection <c>c_proj</c> (C → C).
/// </summary>
public sealed class CausalSelfAttention
{
    readonly int _heads;

    internal CausalSelfAttention(ParameterSet.Builder parameters, string prefix, GptConfig config)
    {
        int c = config.EmbeddingSize;
        _heads = config.Heads;
        QkvWeight = parameters.Add(prefix + "c_attn.weight", [c, 3 * c]);
        QkvBias = parameters.Add(prefix + "c_attn.bias", [3 * c], weightDecay: false);
        ProjectionWeight = parameters.Add(prefix + "c_proj.weight", [c, c]);
        ProjectionBias = parameters.Add(prefix + "c_proj.bias", [c], weightDecay: false);
    }

    /// <summary><c>c_attn.weight</c> (C, 3C), Conv1D layout [in, out].</summary>
    public Tensor QkvWeight { get; }

    /// <summary><c>c_attn.bias</c> (3C).</summary>
    public Tensor QkvBias { get; }

    /// <summary><c>c_proj.weight</c> (C, C), Conv1D layout [in, out].</summary>
    public Tensor ProjectionWeight { get; }

    /// <summary><c>c_proj.bias</c> (C).</summary>
    public Tensor ProjectionBias { get; }

    /// <summary>Self-attention of each position over itself and the earlier real positions of its row.</summary>
    /// <param name="tape">The tape recording the step.</param>
    /// <param name="x">(B, T, C) the block's normalised input.</param>
    /// <param name="keyMask">(B, T) 1 for a real token, 0 for padding.</param>
    /// <param name="conv1D">How the Conv1D layers are applied; null is the float op.</param>
    /// <returns>(B, T, C).</returns>
    public Tensor Forward(Tape tape, Tensor x, Tensor keyMask, IConv1DKernel? conv1D = null) =>
        Project(tape, Mix(tape, x, keyMask, conv1D), conv1D);                           // (B, T, C)

    /// <summary>
    /// The attention before its output projection: c_attn, then causal softmax attention, heads re-assembled. With a
    /// <paramref name="cache"/> (generation's prefill), the keys and values also go into its layer <paramref name="layer"/>.
    /// </summary>
    /// <returns>(B, T, C).</returns>
    internal Tensor Mix(Tape tape, Tensor x, Tensor keyMask, IConv1DKernel? conv1D, KvCache? cache = null, int layer = 0)
    {
        var qkv = Conv1DDispatch.Apply(tape, conv1D, x, QkvWeight, QkvBias);            // (B, T, 3C)
        cache?.StorePrefill(layer, qkv.Data, qkv.Dim(0), qkv.Dim(1));
        return tape.CausalSelfAttention(qkv, _heads, keyMask);                          // (B, T, C)
    }

    /// <summary>
    /// The decode step's attention before its output projection: c_attn of one new token per sequence, its key and value
    /// stored in the cache, then attention over the sequence's cached keys (inference only).
    /// </summary>
    /// <param name="tape">An inference tape (its pool and arena).</param>
    /// <param name="x">(A, C) the new tokens' normalised inputs.</param>
    /// <param name="cache">The cache; layer <paramref name="layer"/> is read and extended.</param>
    /// <param name="layer">This block's index.</param>
    /// <param name="step">Where each sequence's token goes.</param>
    /// <param name="conv1D">How the Conv1D layers are applied; null is the float op.</param>
    /// <returns>(A, C).</returns>
    internal Tensor MixCached(Tape tape, Tensor x, KvCache cache, int layer, DecodePositions step, IConv1DKernel? conv1D)
    {
        var qkv = Conv1DDispatch.Apply(tape, conv1D, x, QkvWeight, QkvBias);            // (A, 3C)
        cache.StoreStep(layer, qkv.Data, step.Slots, step.Positions);
        var y = tape.Empty([x.Dim(0), x.Dim(1)]);                                        // (A, C)
        CachedAttentionKernel.Forward(qkv.Data, cache.Keys(layer), cache.Values(layer), step.Slots, step.KeyCounts, y.Data, _heads, cache.Capacity, tape.Pool);
        return y;
    }

    /// <summary>The output projection c_proj of (..., C) rows (position-wise, so any subset of rows).</summary>
    internal Tensor Project(Tape tape, Tensor y, IConv1DKernel? conv1D) =>
        Conv1DDispatch.Apply(tape, conv1D, y, ProjectionWeight, ProjectionBias);
}
