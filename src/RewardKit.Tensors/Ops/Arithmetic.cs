namespace RewardKit.Tensors;

/// <summary>Element-wise add, subtract, multiply and divide with NumPy broadcasting, and scalar forms.</summary>
public static class ArithmeticOp
{
    /// <summary>a + b, broadcast.</summary>
    public static Tensor Add(this Tape tape, Tensor a, Tensor b)
        => throw new NotImplementedException("Arithmetic: not built yet");

    /// <summary>a − b, broadcast.</summary>
    public static Tensor Sub(this Tape tape, Tensor a, Tensor b)
        => throw new NotImplementedException("Arithmetic: not built yet");

    /// <summary>a · b element-wise, broadcast.</summary>
    public static Tensor Mul(this Tape tape, Tensor a, Tensor b)
        => throw new NotImplementedException("Arithmetic: not built yet");

    /// <summary>a / b element-wise, broadcast.</summary>
    public static Tensor Div(this Tape tape, Tensor a, Tensor b)
        => throw new NotImplementedException("Arithmetic: not built yet");

    /// <summary>x + c.</summary>
    public static Tensor AddScalar(this Tape tape, Tensor x, float c)
        => throw new NotImplementedException("Arithmetic: not built yet");

    /// <summary>c · x.</summary>
    public static Tensor Scale(this Tape tape, Tensor x, float c)
        => throw new NotImplementedException("Arithmetic: not built yet");

}
