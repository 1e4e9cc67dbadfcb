namespace RewardKit.Tensors;

/// <summary>Fused causal multi-head self-attention (scores, causal and key-padding masks, softmax, weighted values) from a fused QKV projection.</summary>
public static class AttentionOp
{
    /// <summary>
    /// qkv (B, T, 3C) laid out [q | k | v] as GPT-2 c_attn → (B, T, C), NH = <paramref name="heads"/>, hs = C / NH, scale 1/√hs.
    /// <paramref name="keyMask"/> (B, T), optional: 1 for a real token, 0 for padding no query may attend to. A query with no visible key outputs 0.
    /// </summary>
    public static Tensor CausalSelfAttention(this Tape tape, Tensor qkv, int heads, Tensor? keyMask = null)
        => throw new NotImplementedException("Attention: not built yet");

}
