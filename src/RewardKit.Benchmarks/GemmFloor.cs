using System.Diagnostics;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Benchmarks;

/// <summary>
/// The matrix products of one reward-model training step (or one inference batch), timed alone on RewardKit's GEMM:
/// a lower bound on the step time, since everything else (layer norm, GELU, softmax, masks, embedding, AdamW, copies)
/// only adds to it. It shows how much of a step is GEMM and how much is the rest.
/// <code>
/// per layer, M = B·T tokens, d = C, hs = d / NH          forward            backward (dX, dW)
///   c_attn  (M, d)·(d, 3d)                               Y = X·W            dX = dY·Wᵀ, dW = Xᵀ·dY
///   c_proj  (M, d)·(d, d)      c_fc (M, d)·(d, 4d)       c_proj (M, 4d)·(4d, d)
///   scores  B·NH × (T, hs)·(hs, T), values B·NH × (T, T)·(T, hs)   backward: dP = dY·Vᵀ, dV = Pᵀ·dY, dQ = dS·K, dK = dSᵀ·Q
/// </code>
/// Attention products assume heads already laid out (B, NH, T, hs) contiguously (the best case for the op). Unless
/// <see cref="RewardModelBenchOptions.FullLastBlock"/>, the last block's c_proj, c_fc and MLP c_proj run on one row per sequence, as the model does.
/// </summary>
public static class GemmFloor
{
    /// <summary>One product C = op(A)·op(B), <see cref="Batch"/> times.</summary>
    public readonly record struct Product(string Name, int M, int N, int K, bool TransposeA, bool TransposeB, int Batch = 1)
    {
        /// <summary>2·M·N·K·Batch.</summary>
        public double Flop => 2.0 * M * N * K * Batch;
    }

    /// <summary>The products of one step over <paramref name="rows"/> sequences; with <paramref name="backward"/> also the gradient products.</summary>
    public static IReadOnlyList<Product> Products(RewardModelBenchOptions o, int rows, bool backward)
    {
        int m = rows * o.Seq, d = o.DModel, t = o.Seq, bh = rows * o.Heads, hs = o.DModel / o.Heads;
        var list = new List<Product>();
        void Linear(string name, int inF, int outF)
        {
            list.Add(new(name + " fwd", m, outF, inF, false, false));
            if (!backward) return;
            list.Add(new(name + " dX", m, inF, outF, false, true));
            list.Add(new(name + " dW", inF, outF, m, true, false));
        }
        for (int layer = 0; layer < o.Layers; layer++)
        {
            Linear("c_attn", d, 3 * d);
            list.Add(new("scores QKt", t, t, hs, false, true, bh));
            list.Add(new("values PV", t, hs, t, false, false, bh));
            if (backward)
            {
                list.Add(new("dP = dY Vt", t, t, hs, false, true, bh));
                list.Add(new("dV = Pt dY", t, hs, t, true, false, bh));
                list.Add(new("dQ = dS K", t, hs, t, false, false, bh));
                list.Add(new("dK = dSt Q", t, hs, t, true, false, bh));
            }
            if (layer == o.Layers - 1 && !o.FullLastBlock) m = rows;   // the last block's position-wise layers: reward rows only
            Linear("attn.c_proj", d, d);
            Linear("c_fc", d, 4 * d);
            Linear("mlp.c_proj", 4 * d, d);
        }
        return list;
    }

    /// <summary>Median milliseconds over <paramref name="repeats"/> runs of all <paramref name="products"/> on <paramref name="pool"/>.</summary>
    public static double TimeMs(IReadOnlyList<Product> products, WorkerPool pool, int repeats = 5)
    {
        ArgumentNullException.ThrowIfNull(products);
        ArgumentNullException.ThrowIfNull(pool);
        long maxA = 0, maxB = 0, maxC = 0;
        foreach (var p in products)
        {
            maxA = Math.Max(maxA, (long)p.M * p.K * p.Batch);
            maxB = Math.Max(maxB, (long)p.K * p.N * p.Batch);
            maxC = Math.Max(maxC, (long)p.M * p.N * p.Batch);
        }
        var a = new float[maxA];
        var b = new float[maxB];
        var c = new float[maxC];
        var random = new Random(1);
        for (int i = 0; i < a.Length; i++) a[i] = (float)random.NextDouble() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = (float)random.NextDouble() - 0.5f;

        void All()
        {
            foreach (var p in products)
            {
                if (p.Batch == 1) Gemm.Multiply(a, b, c, p.M, p.N, p.K, p.TransposeA, p.TransposeB, false, pool);
                else Gemm.MultiplyBatched(a, b, c, p.Batch, p.M, p.N, p.K, (long)p.M * p.K, (long)p.K * p.N, (long)p.M * p.N,
                    p.TransposeA, p.TransposeB, pool: pool);
            }
        }
        All();
        All();
        var samples = new double[Math.Max(1, repeats)];
        for (int r = 0; r < samples.Length; r++)
        {
            long start = Stopwatch.GetTimestamp();
            All();
            samples[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return RewardModelBench.Median(samples);
    }
}
