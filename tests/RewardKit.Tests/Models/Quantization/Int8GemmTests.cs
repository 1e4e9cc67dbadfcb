using RewardKit.Models.Quantization;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tests.Models.Quantization;

public class Int8GemmTests
{
    static float[] Random(int n, int seed, float scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    public static TheoryData<Int8GemmIsa> FastIsas()
    {
        var data = new TheoryData<Int8GemmIsa>();
        foreach (var isa in new[] { Int8GemmIsa.Avx2, Int8GemmIsa.Avx512 })
            if (Int8Gemm.IsSupported(isa)) data.Add(isa);
        if (data.Count == 0) data.Add(Int8GemmIsa.Scalar);   // still runs the comparison on machines without AVX2
        return data;
    }

    [Theory]
    [MemberData(nameof(FastIsas))]
    public void Every_isa_and_thread_count_gives_the_reference_bit_for_bit(Int8GemmIsa isa)
    {
        using var pool = new WorkerPool(2);
        int seed = 0;
        foreach (var rows in new[] { 0, 1, 3, 4, 5, 9 })
            foreach (var inFeatures in new[] { 1, 2, 3, 17, 33, 64, 67 })
                foreach (var outFeatures in new[] { 1, 15, 16, 17, 33 })
                {
                    var gemm = new Int8Gemm(Int8Matrix.Quantize(Random(outFeatures * inFeatures, ++seed), outFeatures, inFeatures), Random(outFeatures, ++seed));
                    var x = Random(rows * inFeatures, ++seed, scale: 4);
                    var expected = new float[rows * outFeatures];
                    gemm.Reference(x, rows, expected);
                    foreach (var p in new[] { null, pool })
                    {
                        var y = Enumerable.Repeat(float.NaN, rows * outFeatures).ToArray();
                        gemm.Multiply(x, rows, y, p, isa);
                        Assert.True(expected.AsSpan().SequenceEqual(y), $"({rows}, {inFeatures}) x ({outFeatures}) with {isa}, {(p is null ? 1 : 2)} threads");
                    }
                }
    }

    [Fact]
    public void A_large_product_split_over_two_threads_matches_the_reference()
    {
        using var pool = new WorkerPool(2);
        const int rows = 70, inFeatures = 256, outFeatures = 768;   // above the parallel threshold, odd row tail
        var gemm = new Int8Gemm(Int8Matrix.Quantize(Random(outFeatures * inFeatures, 1), outFeatures, inFeatures));
        var x = Random(rows * inFeatures, 2);
        var expected = new float[rows * outFeatures];
        var y = new float[rows * outFeatures];
        gemm.Reference(x, rows, expected);
        gemm.Multiply(x, rows, y, pool);
        Assert.Equal(expected, y);
    }

    [Fact]
    public void The_int8_product_is_close_to_the_float_product_of_the_dequantised_weights()
    {
        const int rows = 6, inFeatures = 96, outFeatures = 40;
        var w = Random(outFeatures * inFeatures, 3, scale: 0.2f);
        var q = Int8Matrix.Quantize(w, outFeatures, inFeatures);
        var gemm = new Int8Gemm(q);
        var x = Random(rows * inFeatures, 4, scale: 3);
        var y = new float[rows * outFeatures];
        gemm.Multiply(x, rows, y);
        var wd = q.Dequantize();
        for (int r = 0; r < rows; r++)
        {
            double xmax = Enumerable.Range(0, inFeatures).Max(i => Math.Abs(x[r * inFeatures + i]));
            for (int o = 0; o < outFeatures; o++)
            {
                double exact = 0, bound = 0;
                for (int i = 0; i < inFeatures; i++)
                {
                    exact += (double)x[r * inFeatures + i] * wd[o * inFeatures + i];
                    bound += Math.Abs(wd[o * inFeatures + i]);
                }
                bound *= xmax / gemm.ActivationLevels / 2;   // half an activation step per term
                Assert.True(Math.Abs(y[r * outFeatures + o] - exact) <= bound + 1e-5, $"[{r}, {o}]: {y[r * outFeatures + o]} vs {exact} (bound {bound})");
            }
        }
    }

    [Fact]
    public void Extreme_values_at_every_position_do_not_overflow_int32()
    {
        foreach (var inFeatures in new[] { 1, 255, 516, 517, 3072, 4097 })
        {
            Assert.True(127L * Int8Gemm.LevelsFor(inFeatures) * inFeatures <= int.MaxValue);
            var w = Enumerable.Repeat(-1f, 3 * inFeatures).ToArray();     // every weight at -127
            var gemm = new Int8Gemm(Int8Matrix.Quantize(w, 3, inFeatures));
            var x = Enumerable.Repeat(-2f, 5 * inFeatures).ToArray();    // every activation at -levels
            var y = new float[5 * 3];
            gemm.Multiply(x, 5, y);
            foreach (var v in y) Assert.Equal(2.0 * inFeatures, v, 2.0 * inFeatures * 1e-6);
        }
    }

    [Fact]
    public void Row_quantisation_matches_the_naive_formula_for_every_length_0_to_67()
    {
        for (int n = 0; n <= 67; n++)
        {
            var x = Random(3 * n, n, scale: 5);
            if (n > 0) x[n] = 0;                      // ties and zeros
            int stride = 2 * ((n + 1) / 2), levels = Int8Gemm.LevelsFor(n);
            var q = Enumerable.Repeat((short)99, 3 * stride).ToArray();
            var scales = new float[3];
            Int8Gemm.QuantizeRows(x, 3, n, levels, q, scales);
            for (int r = 0; r < 3; r++)
            {
                float max = 0;
                for (int i = 0; i < n; i++) max = Math.Max(max, Math.Abs(x[r * n + i]));
                Assert.Equal(max / levels, scales[r]);
                for (int i = 0; i < stride; i++)
                {
                    short expected = i < n && max > 0 ? (short)Math.Clamp(MathF.Round(x[r * n + i] * (levels / max)), -levels, levels) : (short)0;
                    Assert.True(expected == q[r * stride + i], $"n {n}, row {r}, [{i}]: {q[r * stride + i]} vs {expected}");
                }
            }
        }
    }

    [Fact]
    public void Zero_rows_give_the_bias_and_bad_shapes_are_refused()
    {
        var gemm = new Int8Gemm(Int8Matrix.Quantize(Random(4 * 5, 1), 4, 5), [1f, 2f, 3f, 4f]);
        var y = new float[2 * 4];
        gemm.Multiply(new float[2 * 5], 2, y);
        Assert.Equal([1f, 2f, 3f, 4f, 1f, 2f, 3f, 4f], y);
        Assert.Throws<ArgumentException>(() => gemm.Multiply(new float[9], 2, y));
        Assert.Throws<ArgumentException>(() => gemm.Multiply(new float[10], 2, new float[7]));
        Assert.Throws<ArgumentException>(() => new Int8Gemm(Int8Matrix.Quantize(Random(4 * 5, 1), 4, 5), [1f]));
        Assert.Throws<ArgumentException>(() => gemm.Multiply([float.NaN, 0, 0, 0, 0], 1, new float[4]));
    }
}
