using System.Numerics.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>Affine maps: Linear with PyTorch nn.Linear weights (out, in) and Conv1D with GPT-2 Conv1D weights (in, out).</summary>
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
        var y = tape.Output(shape, tape.NeedsGrad(x, weight, bias));
        var pool = tape.Pool;

        // Linear: y = x · Wᵀ with W stored (out, in); Conv1D: y = x · W with W stored (in, out).
        Gemm.Multiply(x.Data, weight.Data, y.Data, rows, outFeatures, inFeatures, transposeB: weightIsOutIn, pool: pool);
        if (bias is not null) AddRows(y.Data, bias.Data, rows, outFeatures);

        tape.Record(y, () =>
        {
            var dy = y.Grad;
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
            if (bias is not null && bias.RequiresGrad) SumRows(dy, bias.Grad, rows, outFeatures);
        });
        return y;
    }

    /// <summary>y[r, :] += b for every row.</summary>
    internal static void AddRows(Span<float> y, ReadOnlySpan<float> b, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = y.Slice(r * columns, columns);
            TensorPrimitives.Add(row, b, row);
        }
    }

    /// <summary>db += Σ_r dy[r, :] (column sums).</summary>
    internal static void SumRows(ReadOnlySpan<float> dy, Span<float> db, int rows, int columns)
    {
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(db, dy.Slice(r * columns, columns), db);
    }
}
