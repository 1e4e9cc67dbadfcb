namespace RewardKit.Tensors;

/// <summary>Fused softmax and log-softmax over the last axis.</summary>
public static class SoftmaxOp
{
    /// <summary>softmax over the last axis.</summary>
    public static Tensor Softmax(this Tape tape, Tensor x)
        => throw new NotImplementedException("Softmax: not built yet");

    /// <summary>log-softmax over the last axis.</summary>
    public static Tensor LogSoftmax(this Tape tape, Tensor x)
        => throw new NotImplementedException("Softmax: not built yet");

}
