namespace RewardKit.Tensors;

/// <summary>Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p); identity when p = 0.</summary>
public static class DropoutOp
{
    /// <summary>dropout(x, p) with the mask drawn from <paramref name="rng"/>.</summary>
    public static Tensor Dropout(this Tape tape, Tensor x, float p, Rng rng)
        => throw new NotImplementedException("Dropout: not built yet");

}
