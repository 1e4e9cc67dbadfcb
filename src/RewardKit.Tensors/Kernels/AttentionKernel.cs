using System.Numerics.Tensors;

namespace RewardKit.Tensors.Kernels;

/// <summary>
/// Causal multi-head self-attention over a fused QKV buffer (B, T, 3C) laid out [q | k | v], as GPT-2's c_attn, following
/// llm.c's attention_forward/attention_backward. Query i of head h sees keys j ≤ i whose mask value is non-zero; a query
/// with no visible key gets zero probabilities and outputs 0. The fast kernels are parallel over B·NH (each (b, h) owns
/// its slice of every output, so results do not depend on the thread count) with vectorised dot products;
/// <see cref="ReferenceForward"/> is the naive double-precision loop they are tested against.
/// </summary>
public static unsafe class AttentionKernel
{
    /// <summary>
    /// Forward. <paramref name="att"/> (B, NH, T, T) receives the probabilities (row i is zero beyond i and at masked keys)
    /// when it is not empty; otherwise <paramref name="scratch"/> must hold <c>pool.Threads · T</c> floats for one row per thread.
    /// </summary>
    /// <param name="qkv">(B, T, 3C).</param>
    /// <param name="mask">(B, T), non-zero for a real key; empty for none.</param>
    /// <param name="att">(B, NH, T, T) probabilities out, or empty.</param>
    /// <param name="scratch">At least <c>pool.Threads · T</c> floats when <paramref name="att"/> is empty.</param>
    /// <param name="output">(B, T, C), overwritten.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="channels">C.</param>
    /// <param name="heads">NH; hs = C / NH.</param>
    /// <param name="pool">Threads.</param>
    public static void Forward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> mask, Span<float> att, Span<float> scratch, Span<float> output,
        int batch, int time, int channels, int heads, WorkerPool pool)
    {
        Check(qkv.Length, mask.Length, output.Length, batch, time, channels, heads);
        bool keep = !att.IsEmpty;
        if (keep && att.Length != (long)batch * heads * time * time) throw new ArgumentException("AttentionKernel: att must hold B·NH·T·T floats.");
        int threads = Math.Max(1, Math.Min(pool.Threads, batch * heads));
        if (!keep && scratch.Length < (long)threads * time) throw new ArgumentException("AttentionKernel: scratch must hold Threads·T floats.");
        if (batch * heads == 0 || time == 0) return;
        fixed (float* pq = qkv, pm = mask, pa = att, ps = scratch, po = output)
        {
            var work = new ForwardWork
            {
                Qkv = pq, Mask = mask.IsEmpty ? null : pm, Att = keep ? pa : null, Scratch = ps, Out = po,
                B = batch, T = time, C = channels, NH = heads,
            };
            pool.Run(ref work, threads);
        }
    }

    /// <summary>
    /// Backward: adds into <paramref name="dqkv"/> given the output gradient and the probabilities kept by <see cref="Forward"/>.
    /// <paramref name="scratch"/> must hold <c>pool.Threads · T</c> floats.
    /// </summary>
    /// <param name="qkv">(B, T, 3C).</param>
    /// <param name="att">(B, NH, T, T) from the forward.</param>
    /// <param name="doutput">(B, T, C).</param>
    /// <param name="dqkv">(B, T, 3C), accumulated into.</param>
    /// <param name="scratch">At least <c>pool.Threads · T</c> floats.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="channels">C.</param>
    /// <param name="heads">NH.</param>
    /// <param name="pool">Threads.</param>
    public static void Backward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, ReadOnlySpan<float> doutput, Span<float> dqkv, Span<float> scratch,
        int batch, int time, int channels, int heads, WorkerPool pool)
    {
        Check(qkv.Length, 0, doutput.Length, batch, time, channels, heads);
        if (dqkv.Length != qkv.Length || att.Length != (long)batch * heads * time * time)
            throw new ArgumentException("AttentionKernel: dqkv must match qkv and att must hold B·NH·T·T floats.");
        int threads = Math.Max(1, Math.Min(pool.Threads, batch * heads));
        if (scratch.Length < (long)threads * time) throw new ArgumentException("AttentionKernel: scratch must hold Threads·T floats.");
        if (batch * heads == 0 || time == 0) return;
        fixed (float* pq = qkv, pa = att, pdo = doutput, pdq = dqkv, ps = scratch)
        {
            var work = new BackwardWork { Qkv = pq, Att = pa, DOut = pdo, DQkv = pdq, Scratch = ps, B = batch, T = time, C = channels, NH = heads };
            pool.Run(ref work, threads);
        }
    }

    /// <summary>The naive forward (double accumulation), the reference the fast kernel is tested against.</summary>
    /// <param name="qkv">(B, T, 3C).</param>
    /// <param name="mask">(B, T), non-zero for a real key; empty for none.</param>
    /// <param name="output">(B, T, C), overwritten.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="channels">C.</param>
    /// <param name="heads">NH.</param>
    public static void ReferenceForward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> mask, Span<float> output, int batch, int time, int channels, int heads)
    {
        Check(qkv.Length, mask.Length, output.Length, batch, time, channels, heads);
        int hs = channels / heads, c3 = 3 * channels;
        double scale = 1.0 / Math.Sqrt(hs);
        var p = new double[time];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < time; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j <= i; j++)
                    {
                        p[j] = double.NegativeInfinity;
                        if (!mask.IsEmpty && mask[b * time + j] == 0) continue;
                        double s = 0;
                        for (int d = 0; d < hs; d++)
                            s += (double)qkv[(b * time + i) * c3 + h * hs + d] * qkv[(b * time + j) * c3 + channels + h * hs + d];
                        p[j] = s * scale;
                        max = Math.Max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) { p[j] = double.IsNegativeInfinity(p[j]) ? 0 : Math.Exp(p[j] - max); sum += p[j]; }
                    for (int d = 0; d < hs; d++)
                    {
                        double o = 0;
                        if (sum > 0)
                            for (int j = 0; j <= i; j++) o += p[j] / sum * qkv[(b * time + j) * c3 + 2 * channels + h * hs + d];
                        output[(b * time + i) * channels + h * hs + d] = (float)o;
                    }
                }
    }

    static void Check(int qkvLength, int maskLength, int outputLength, int batch, int time, int channels, int heads)
    {
        if (batch < 0 || time < 0 || channels < 0 || heads <= 0 || channels % heads != 0)
            throw new ArgumentException($"AttentionKernel: need B, T, C >= 0 and C ({channels}) divisible by the {heads} heads.");
        if (qkvLength != (long)batch * time * 3 * channels || outputLength != (long)batch * time * channels
            || (maskLength != 0 && maskLength != (long)batch * time))
            throw new ArgumentException($"AttentionKernel: buffer lengths do not match B={batch}, T={time}, C={channels}.");
    }

    struct ForwardWork : IThreadWork
    {
        public float* Qkv, Mask, Att, Scratch, Out;
        public int B, T, C, NH;

        public readonly void Execute(int thread, int threads, int slot)
        {
            int units = B * NH;
            int start = (int)((long)thread * units / threads), end = (int)((long)(thread + 1) * units / threads);
            int hs = C / NH, c3 = 3 * C;
            float scale = 1f / MathF.Sqrt(hs);
            for (int unit = start; unit < end; unit++)
            {
                int b = unit / NH, h = unit % NH;
                float* qkvB = Qkv + (long)b * T * c3;
                for (int i = 0; i < T; i++)
                {
                    var row = new Span<float>(Att != null ? Att + ((long)unit * T + i) * T : Scratch + (long)thread * T, T);
                    var q = new ReadOnlySpan<float>(qkvB + (long)i * c3 + h * hs, hs);
                    float max = float.NegativeInfinity;
                    for (int j = 0; j <= i; j++)
                    {
                        if (Mask != null && Mask[b * T + j] == 0f) { row[j] = float.NegativeInfinity; continue; }
                        float s = TensorPrimitives.Dot(q, new ReadOnlySpan<float>(qkvB + (long)j * c3 + C + h * hs, hs)) * scale;
                        row[j] = s;
                        if (s > max) max = s;
                    }
                    var o = new Span<float>(Out + ((long)b * T + i) * C + h * hs, hs);
                    o.Clear();
                    if (float.IsNegativeInfinity(max))
                    {
                        row.Clear(); // no visible key: zero probabilities, zero output
                        continue;
                    }
                    var visible = row[..(i + 1)];
                    TensorPrimitives.Subtract(visible, max, visible);
                    TensorPrimitives.Exp(visible, visible); // masked keys: exp(−∞) = 0
                    float inv = 1f / TensorPrimitives.Sum(visible);
                    TensorPrimitives.Multiply(visible, inv, visible);
                    row[(i + 1)..].Clear();
                    for (int j = 0; j <= i; j++)
                    {
                        float p = row[j];
                        if (p == 0f) continue;
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(qkvB + (long)j * c3 + 2 * C + h * hs, hs), p, o, o);
                    }
                }
            }
        }
    }

    struct BackwardWork : IThreadWork
    {
        public float* Qkv, Att, DOut, DQkv, Scratch;
        public int B, T, C, NH;

        public readonly void Execute(int thread, int threads, int slot)
        {
            int units = B * NH;
            int start = (int)((long)thread * units / threads), end = (int)((long)(thread + 1) * units / threads);
            int hs = C / NH, c3 = 3 * C;
            float scale = 1f / MathF.Sqrt(hs);
            var datt = new Span<float>(Scratch + (long)thread * T, T);
            for (int unit = start; unit < end; unit++)
            {
                int b = unit / NH, h = unit % NH;
                float* qkvB = Qkv + (long)b * T * c3;
                float* dqkvB = DQkv + (long)b * T * c3;
                for (int i = 0; i < T; i++)
                {
                    var att = new ReadOnlySpan<float>(Att + ((long)unit * T + i) * T, i + 1);
                    var dout = new ReadOnlySpan<float>(DOut + ((long)b * T + i) * C + h * hs, hs);
                    // datt_j = dout_i · v_j; dv_j += att_ij · dout_i.
                    float weighted = 0;
                    for (int j = 0; j <= i; j++)
                    {
                        float p = att[j];
                        if (p == 0f) { datt[j] = 0; continue; }
                        datt[j] = TensorPrimitives.Dot(dout, new ReadOnlySpan<float>(qkvB + (long)j * c3 + 2 * C + h * hs, hs));
                        weighted += p * datt[j];
                        var dv = new Span<float>(dqkvB + (long)j * c3 + 2 * C + h * hs, hs);
                        TensorPrimitives.MultiplyAdd(dout, p, dv, dv);
                    }
                    // Softmax backward: dpre_j = att_ij (datt_j − Σ_k att_ik datt_k); then through the scaled q·k.
                    var q = new ReadOnlySpan<float>(qkvB + (long)i * c3 + h * hs, hs);
                    var dq = new Span<float>(dqkvB + (long)i * c3 + h * hs, hs);
                    for (int j = 0; j <= i; j++)
                    {
                        float p = att[j];
                        if (p == 0f) continue;
                        float dpre = p * (datt[j] - weighted) * scale;
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(qkvB + (long)j * c3 + C + h * hs, hs), dpre, dq, dq);
                        var dk = new Span<float>(dqkvB + (long)j * c3 + C + h * hs, hs);
                        TensorPrimitives.MultiplyAdd(q, dpre, dk, dk);
                    }
                }
            }
        }
    }
}
