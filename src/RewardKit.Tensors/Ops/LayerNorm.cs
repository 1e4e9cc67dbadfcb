using System.Numerics.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>Fused layer normalisation over the last axis (forward caches mean and rstd; row kernels in <see cref="Normalization"/>).</summary>
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
        int threads = Elementwise.ThreadsFor(pool, (long)rows * c, rows); // small tensors (the B final rows) stay on the caller
        fixed (float* px = x.Data, py = y.Data, pw = weight.Data, pb = bias.Data, pm = mean.Data, pr = rstd.Data)
        {
            var work = new Forward { X = px, Y = py, W = pw, B = pb, Mean = pm, Rstd = pr, Rows = rows, C = c, Eps = eps };
            if (rows > 0) pool.Run(ref work, threads);
        }

        tape.Record(y, () =>
        {
            // Per-thread partial sums of dweight and dbias, reduced in thread order (deterministic for a thread count).
            var partial = tape.Zeros([threads, 2 * c]); // per thread: dweight, dbias
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
                for (int t = 0; t < threads; t++) TensorPrimitives.Add(weight.Grad, p.Slice(t * 2 * c, c), weight.Grad);
            if (bias.RequiresGrad)
                for (int t = 0; t < threads; t++) TensorPrimitives.Add(bias.Grad, p.Slice(t * 2 * c + c, c), bias.Grad);
            tape.Release(partial);
            tape.Release(rstd);
            tape.Release(mean);
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
                var (m, s) = Normalization.LayerNormForward(new ReadOnlySpan<float>(X + (long)r * C, C), w, b,
                    new Span<float>(Y + (long)r * C, C), Eps, Activations.Best);
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
            float* mine = Partial + (long)thread * 2 * C;
            var dw = new Span<float>(mine, C);
            var db = new Span<float>(mine + C, C);
            for (int r = start; r < end; r++)
            {
                var dx = Dx != null ? new Span<float>(Dx + (long)r * C, C) : Span<float>.Empty;
                Normalization.LayerNormBackward(new ReadOnlySpan<float>(X + (long)r * C, C), new ReadOnlySpan<float>(Dy + (long)r * C, C),
                    w, Mean[r], Rstd[r], dx, dw, db, Activations.Best);
            }
        }
    }
}
