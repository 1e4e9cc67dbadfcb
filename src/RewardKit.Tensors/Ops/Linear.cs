namespace RewardKit.Tensors;

/// <summary>Affine maps: Linear with PyTorch nn.Linear weights (out, in) and Conv1D with GPT-2 Conv1D weights (in, out).</summary>
public static class LinearOp
{
    /// <summary>x · weightᵀ + bias. x (..., in), weight (out, in), bias (out) or null → (..., out).</summary>
    public static Tensor Linear(this Tape tape, Tensor x, Tensor weight, Tensor? bias)
        => throw new NotImplementedException("Linear: not built yet");

    /// <summary>x · weight + bias, as Hugging Face GPT-2 Conv1D. x (..., in), weight (in, out), bias (out) or null → (..., out).</summary>
    public static Tensor Conv1D(this Tape tape, Tensor x, Tensor weight, Tensor? bias)
        => throw new NotImplementedException("Linear: not built yet");

}
