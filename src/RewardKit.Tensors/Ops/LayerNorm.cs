using System.Numerics.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>Fused layer normalisation over the last axis (forward caches mean and rstd).</summary>
public static unsafe class LayerNormOp
{
    /// <summary>(x − mean) · rstd · weight + bias. x (..., C), weight (C), bias (C).</summary>
    public static Tensor LayerNorm(this Tape tape, Tensor x, Tensor weight, Tensor bias, float eps = 1e-5f)
    {
        const string op = "LayerNorm";
        Shapes.Require(x.Rank >= 1, op, "x needs at least one axis", x);
        int c = x.Dim(-1);
        Shapes.Require(weight.Rank == 1 && weight.Length == c, op, $"weight must have shape ({c}) to match the last axis of x", x, weight);
        Shapes.Require(bias.Rank == 1 && bias.Length == c, op, $"bias must have shape ({c}) to match the last axis of x", x, bias);
        int rows = Shapes.Product(x.Shape.AsSpan(0, x.Rank - 1));
        bool needsGrad = tape.NeedsGrad(x, weight, bias);
        var y = tape.Output(x.Shape, needsGrad);
        // Per-row statistics, kept for the backward (arena, freed at Reset).
        var mean = tape.Empty([rows]);
        var rstd = tape.Empty([rows]);
        var pool = tape.Pool;
        int threads = Math.Max(1, Math.Min(pool.Threads, rows));
        fixed (float* px = x.Data, py = y.Data, pw = weight.Data, pb = bias.Data, pm = mean.Data, pr = rstd.Data)
        {
            var work = new Forward { X = px, Y = py, W = pw, B = pb, Mean = pm, Rstd = pr, Rows = rows, C = c, Eps = eps };
            if (rows > 0) pool.Run(ref work, threads);
        }

        tape.Record(y, () =>
        {
            // Per-thread partial sums of dweight and dbias, reduced in thread order (deterministic for a thread count).
            var partial = tape.Zeros([threads, 4 * c]); // per thread: dweight, dbias, then norm/dnorm scratch
            var dxSpan = x.RequiresGrad ? x.Grad : Span<float>.Empty;
            fixed (float* px = x.Data, pdy = y.Grad, pw = weight.Data, pm = mean.Data, pr = rstd.Data, pp = partial.Data, pdx = dxSpan)
            {
                var work = new Backward
                {
                    X = px, Dy = pdy, W = pw, Mean = pm, Rstd = pr, Partial = pp, Dx = x.RequiresGrad ? pdx : null,
                    Rows = rows, C = c, Threads = threads,
                };
                if (rows > 0) pool.Run(ref work, threads);
            }
            var p = partial.Data;
            if (weight.RequiresGrad)
                for (int t = 0; t < threads; t++) TensorPrimitives.Add(weight.Grad, p.Slice(t * 4 * c, c), weight.Grad);
            if (bias.RequiresGrad)
                for (int t = 0; t < threads; t++) TensorPrimitives.Add(bias.Grad, p.Slice(t * 4 * c + c, c), bias.Grad);
        });
        return y;
    }

    struct Forward : IThreadWork
    {
        public float* X, Y, W, B, Mean, Rstd;
        public int Rows, C;
        public float Eps;

        public readonly void Execute(int thread, int threads, int slot)
        {
            int start = (int)((long)thread * Rows / threads), end = (int)((long)(thread + 1) * Rows / threads);
            var w = new ReadOnlySpan<float>(W, C);
            var b = new ReadOnlySpan<float>(B, C);
            for (int r = start; r < end; r++)
            {
                var x = new ReadOnlySpan<float>(X + (long)r * C, C);
                var y = new Span<float>(Y + (long)r * C, C);
                float m = TensorPrimitives.Sum(x) / C;
                // Two-pass variance: y temporarily holds x − mean.
                TensorPrimitives.Subtract(x, m, y);
                float v = TensorPrimitives.Dot(y, y) / C;
                float s = 1f / MathF.Sqrt(v + Eps);
                TensorPrimitives.Multiply(y, s, y);
                TensorPrimitives.MultiplyAdd(y, w, b, y);
                Mean[r] = m;
                Rstd[r] = s;
            }
        }
    }

    struct Backward : IThreadWork
    {
        public float* X, Dy, W, Mean, Rstd, Partial, Dx;
        public int Rows, C, Threads;

        public readonly void Execute(int thread, int threads, int slot)
        {
            int start = (int)((long)thread * Rows / threads), end = (int)((long)(thread + 1) * Rows / threads);
            var w = new ReadOnlySpan<float>(W, C);
            float* mine = Partial + (long)thread * 4 * C;
            var dw = new Span<float>(mine, C);
            var db = new Span<float>(mine + C, C);
            var norm = new Span<float>(mine + 2 * C, C);
            var dnorm = new Span<float>(mine + 3 * C, C);
            for (int r = start; r < end; r++)
            {
                var x = new ReadOnlySpan<float>(X + (long)r * C, C);
                var dy = new ReadOnlySpan<float>(Dy + (long)r * C, C);
                float rs = Rstd[r];
                TensorPrimitives.Subtract(x, Mean[r], norm);
                TensorPrimitives.Multiply(norm, rs, norm);
                TensorPrimitives.Multiply(w, dy, dnorm);
                float dnormMean = TensorPrimitives.Sum(dnorm) / C;
                float dnormNormMean = TensorPrimitives.Dot(dnorm, norm) / C;
                TensorPrimitives.MultiplyAdd(norm, dy, dw, dw);
                TensorPrimitives.Add(db, dy, db);
                if (Dx != null)
                {
                    var dx = new Span<float>(Dx + (long)r * C, C);
                    // dx += (dnorm − mean(dnorm) − norm · mean(dnorm · norm)) · rstd
                    TensorPrimitives.MultiplyAdd(norm, -dnormNormMean, dnorm, dnorm);
                    TensorPrimitives.Subtract(dnorm, dnormMean, dnorm);
                    TensorPrimitives.MultiplyAdd(dnorm, rs, dx, dx);
                }
            }
        }
    }
}
