namespace RewardKit.Tensors;

/// <summary>Fused cross-entropy over a vocabulary (log-softmax + negative log-likelihood), mean over targets that are not ignored.</summary>
public static class CrossEntropyOp
{
    /// <summary>logits (N, V), targets (N) with <paramref name="ignoreIndex"/> skipped → shape (); 0 when every target is ignored.</summary>
    public static Tensor CrossEntropy(this Tape tape, Tensor logits, int[] targets, int ignoreIndex = -100)
        => throw new NotImplementedException("CrossEntropy: not built yet");

}
