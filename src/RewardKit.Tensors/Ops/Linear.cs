using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>
/// Affine maps: Linear with PyTorch nn.Linear weights (out, in) and Conv1D with GPT-2 Conv1D weights (in, out), and
/// Conv1D followed by gelu_new fused with its bias (the GPT-2 MLP's <c>gelu(c_fc(x))</c>). Backward reads the transposed
/// operands in place through the GEMM's transpose flags (no transposed copies); bias gradients are column sums split
/// across the pool by columns.
/// </summary>
public static class LinearOp
{
    /// <summary>x · weightᵀ + bias. x (..., in), weight (out, in), bias (out) or null → (..., out).</summary>
    public static Tensor Linear(this Tape tape, Tensor x, Tensor weight, Tensor? bias)
        => Affine(tape, "Linear", x, weight, bias, weightIsOutIn: true);

    /// <summary>x · weight + bias, as Hugging Face GPT-2 Conv1D. x (..., in), weight (in, out), bias (out) or null → (..., out).</summary>
    public static Tensor Conv1D(this Tape tape, Tensor x, Tensor weight, Tensor? bias)
        => Affine(tape, "Conv1D", x, weight, bias, weightIsOutIn: false);

    static Tensor Affine(Tape tape, string op, Tensor x, Tensor weight, Tensor? bias, bool weightIsOutIn)
    {
        var (rows, inFeatures, outFeatures, shape) = Check(op, x, weight, bias, weightIsOutIn);
        var y = tape.Output(shape, tape.NeedsGrad(x, weight, bias));
        var pool = tape.Pool;

        // Linear: y = x · Wᵀ with W stored (out, in); Conv1D: y = x · W with W stored (in, out).
        Gemm.Multiply(x.Data, weight.Data, y.Data, rows, outFeatures, inFeatures, transposeB: weightIsOutIn, pool: pool);
        if (bias is not null) Elementwise.AddRows(y.Data, bias.Data, rows, outFeatures, pool);

        tape.Record(y, () =>
        {
            var dy = y.Grad;
            BackwardProducts(pool, x, weight, dy, rows, inFeatures, outFeatures, weightIsOutIn);
            if (bias is not null && bias.RequiresGrad) Elementwise.SumRows(dy, bias.Grad, rows, outFeatures, pool);
        });
        return y;
    }

    /// <summary>
    /// gelu_new(x · weight + bias) with Conv1D weights, fused: the GEMM writes the pre-activation, one pass adds the bias and
    /// applies GELU; the backward makes d(pre-activation) and the bias gradient in one pass, then the two GEMMs.
    /// The same values as <c>tape.Gelu(tape.Conv1D(x, weight, bias))</c>. x (..., in), weight (in, out), bias (out) → (..., out).
    /// </summary>
    public static Tensor Conv1DGelu(this Tape tape, Tensor x, Tensor weight, Tensor bias)
    {
        const string op = "Conv1DGelu";
        ArgumentNullException.ThrowIfNull(bias);
        var (rows, inFeatures, outFeatures, shape) = Check(op, x, weight, bias, weightIsOutIn: false);
        var y = tape.Output(shape, tape.NeedsGrad(x, weight, bias));
        var pre = tape.Empty(shape);                                     // (..., out) x · W + b, kept for the backward
        var pool = tape.Pool;

        Gemm.Multiply(x.Data, weight.Data, pre.Data, rows, outFeatures, inFeatures, pool: pool);
        Elementwise.BiasGeluForward(pre.Data, bias.Data, y.Data, rows, outFeatures, pool, Activations.Best);

        tape.Record(y, () =>
        {
            // d(pre) is written by the fused pass (pre has no other reader), so it needs no zeroed gradient buffer.
            var dpre = tape.Empty(shape);
            var db = bias.RequiresGrad ? bias.Grad : Span<float>.Empty;
            Elementwise.BiasGeluBackward(pre.Data, y.Grad, dpre.Data, db, rows, outFeatures, pool, Activations.Best);
            BackwardProducts(pool, x, weight, dpre.Data, rows, inFeatures, outFeatures, weightIsOutIn: false);
            tape.Release(dpre);
            tape.Release(pre);
        });
        return y;
    }

    /// <summary>dx += dy · op(W)ᵀ and dW += (the product's transpose), for the inputs that take gradients.</summary>
    static void BackwardProducts(WorkerPool pool, Tensor x, Tensor weight, ReadOnlySpan<float> dy, int rows, int inFeatures, int outFeatures, bool weightIsOutIn)
    {
        if (x.RequiresGrad)
            // dx (rows, in) += dy (rows, out) · [W (out, in) | Wᵀ for (in, out) storage].
            Gemm.Multiply(dy, weight.Data, x.Grad, rows, inFeatures, outFeatures,
                transposeB: !weightIsOutIn, accumulate: true, pool: pool);
        if (weight.RequiresGrad)
        {
            if (weightIsOutIn)
                // dW (out, in) += dyᵀ · x.
                Gemm.Multiply(dy, x.Data, weight.Grad, outFeatures, inFeatures, rows, transposeA: true, accumulate: true, pool: pool);
            else
                // dW (in, out) += xᵀ · dy.
                Gemm.Multiply(x.Data, dy, weight.Grad, inFeatures, outFeatures, rows, transposeA: true, accumulate: true, pool: pool);
        }
    }

    static (int Rows, int In, int Out, int[] Shape) Check(string op, Tensor x, Tensor weight, Tensor? bias, bool weightIsOutIn)
    {
        Shapes.RequireRank(op, weight, 2, "weight");
        Shapes.Require(x.Rank >= 1, op, "x needs at least one axis", x);
        int inFeatures = weightIsOutIn ? weight.Shape[1] : weight.Shape[0];
        int outFeatures = weightIsOutIn ? weight.Shape[0] : weight.Shape[1];
        Shapes.Require(x.Dim(-1) == inFeatures, op,
            $"the last axis of x ({x.Dim(-1)}) must equal the weight's input size ({inFeatures})", x, weight);
        if (bias is not null)
            Shapes.Require(bias.Rank == 1 && bias.Length == outFeatures, op, $"bias must have shape ({outFeatures})", bias, weight);
        int rows = Shapes.Product(x.Shape.AsSpan(0, x.Rank - 1));
        var shape = (int[])x.Shape.Clone();
        shape[^1] = outFeatures;
        return (rows, inFeatures, outFeatures, shape);
    }
}
