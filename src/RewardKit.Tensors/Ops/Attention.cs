using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>Fused multi-head self-attention (scores, causal and key-padding masks, softmax, weighted values) from a fused QKV projection.</summary>
public static class AttentionOp
{
    /// <summary>
    /// Bidirectional multi-head self-attention (BERT's): as <see cref="CausalSelfAttention"/>, except that every query sees
    /// every real key. qkv (B, T, 3C) laid out [q | k | v] → (B, T, C); <paramref name="keyMask"/> (B, T), optional: 1 real, 0 padding.
    /// </summary>
    public static Tensor BidirectionalSelfAttention(this Tape tape, Tensor qkv, int heads, Tensor? keyMask = null) =>
        SelfAttention(tape, qkv, heads, keyMask, causal: false, "BidirectionalSelfAttention");

    /// <summary>
    /// qkv (B, T, 3C) laid out [q | k | v] as GPT-2 c_attn → (B, T, C), NH = <paramref name="heads"/>, hs = C / NH, scale 1/√hs.
    /// <paramref name="keyMask"/> (B, T), optional: 1 for a real token, 0 for padding no query may attend to. A query with no visible key outputs 0.
    /// </summary>
    public static Tensor CausalSelfAttention(this Tape tape, Tensor qkv, int heads, Tensor? keyMask = null) =>
        SelfAttention(tape, qkv, heads, keyMask, causal: true, "CausalSelfAttention");

    static Tensor SelfAttention(Tape tape, Tensor qkv, int heads, Tensor? keyMask, bool causal, string op)
    {
        Shapes.RequireRank(op, qkv, 3, "qkv");
        Shapes.Require(qkv.Shape[2] % 3 == 0, op, "the last axis of qkv must be 3C ([q | k | v])", qkv);
        int B = qkv.Shape[0], T = qkv.Shape[1], C = qkv.Shape[2] / 3;
        if (heads <= 0 || C % heads != 0)
            throw new ArgumentException($"{op}: C = {C} (qkv shape {Shapes.Format(qkv.Shape)}) must be divisible by heads = {heads}.");
        if (keyMask is not null)
            Shapes.Require(keyMask.Rank == 2 && keyMask.Shape[0] == B && keyMask.Shape[1] == T, op,
                $"keyMask must have shape ({B}, {T})", qkv, keyMask);

        bool needsGrad = tape.NeedsGrad(qkv);
        var y = tape.Output([B, T, C], needsGrad);
        var pool = tape.Pool;
        var mask = keyMask is null ? ReadOnlySpan<float>.Empty : keyMask.Data;
        if (!needsGrad)
        {
            AttentionKernel.Forward(qkv.Data, mask, Span<float>.Empty, y.Data, B, T, C, heads, pool, causal: causal);
            return y;
        }
        // The probabilities (B, NH, T, T), the largest activation of a block, are kept for the backward unless the tape asks
        // for recomputation; then the backward recomputes them block by block with the forward's code (same bits).
        bool recompute = tape.RecomputesAttention && tape.ReleasesIntermediates;
        var att = recompute ? null : tape.Empty([B, heads, T, T]);
        AttentionKernel.Forward(qkv.Data, mask, att is null ? Span<float>.Empty : att.Data, y.Data, B, T, C, heads, pool, causal: causal);
        tape.Record(y, () =>
        {
            var backwardMask = keyMask is null ? ReadOnlySpan<float>.Empty : keyMask.Data;
            AttentionKernel.Backward(qkv.Data, backwardMask, att is null ? ReadOnlySpan<float>.Empty : att.Data, y.Grad, qkv.Grad, B, T, C, heads, pool, causal: causal);
            if (att is not null) tape.Release(att);
        });
        return y;
    }
}
