using RewardKit.Inference.Quantization;
using RewardKit.Models.Quantization;

namespace RewardKit.Tests.Models.Quantization;

public class Int8MatrixTests
{
    static float[] Random(int n, int seed, float scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    [Fact]
    public void Dequantised_weights_are_within_half_a_step_of_the_originals()
    {
        const int rows = 7, cols = 33;
        var w = Random(rows * cols, 1, scale: 3);
        w[5] = 0; // a row may hold zeros
        var q = Int8Matrix.Quantize(w, rows, cols);
        var back = q.Dequantize();
        for (var o = 0; o < rows; o++)
        {
            var max = Enumerable.Range(0, cols).Max(i => Math.Abs(w[o * cols + i]));
            Assert.Equal(max / 127f, q.Scales[o], 6);
            for (var i = 0; i < cols; i++) Assert.True(Math.Abs(back[o * cols + i] - w[o * cols + i]) <= q.Scales[o] / 2 + 1e-6);
        }
        Assert.Equal(rows * cols + 4 * rows, q.Bytes);
    }

    [Fact]
    public void A_zero_row_gets_a_zero_scale_and_zero_outputs()
    {
        var q = Int8Matrix.Quantize(new float[2 * 4], 2, 4);
        var y = new float[2];
        q.MatVec([1, 2, 3, 4], y);
        Assert.Equal([0f, 0f], y);
    }

    [Fact]
    public void The_SIMD_matvec_matches_the_reference_for_every_length_up_to_67()
    {
        for (var cols = 0; cols <= 67; cols++)
        {
            const int rows = 5;
            var q = Int8Matrix.Quantize(Random(rows * cols, cols), rows, cols);
            var x = Random(cols, 100 + cols);
            var fast = new float[rows];
            var reference = new float[rows];
            q.MatVec(x, fast);
            q.MatVecReference(x, reference);
            for (var o = 0; o < rows; o++) Assert.True(Math.Abs(fast[o] - reference[o]) <= 1e-4f * (1 + Math.Abs(reference[o])), $"cols {cols} row {o}: {fast[o]} vs {reference[o]}");
        }
    }

    [Fact]
    public void Quantised_gemm_is_close_to_the_float_product()
    {
        const int batch = 3, rows = 16, cols = 64;
        var w = Random(rows * cols, 5);
        var x = Random(batch * cols, 6);
        var q = Int8Matrix.Quantize(w, rows, cols);
        var y = new float[batch * rows];
        q.Gemm(x, batch, y);
        for (var b = 0; b < batch; b++)
            for (var o = 0; o < rows; o++)
            {
                var exact = 0.0;
                for (var i = 0; i < cols; i++) exact += w[o * cols + i] * x[b * cols + i];
                // error per term ≤ scale/2 · |x|; bound by the sum
                var bound = q.Scales[o] / 2 * Enumerable.Range(0, cols).Sum(i => Math.Abs(x[b * cols + i])) + 1e-5;
                Assert.True(Math.Abs(y[b * rows + o] - exact) <= bound, $"({b}, {o}): {y[b * rows + o]} vs {exact}");
            }
    }

    [Fact]
    public void Shapes_that_do_not_match_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Int8Matrix.Quantize(new float[5], 2, 3));
        var q = Int8Matrix.Quantize(new float[6], 2, 3);
        Assert.Throws<ArgumentException>(() => q.MatVec(new float[2], new float[2]));
        Assert.Throws<ArgumentException>(() => Int8Matrix.Quantize([float.NaN], 1, 1));
    }

    [Fact]
    public void Quantisation_cost_counts_flipped_preferences_and_reward_deltas()
    {
        var cost = QuantizationCost.Measure([1f, 2f, 0f, 5f], [0f, 3f, 1f, 4f], [1.1f, 2f, 0.5f, 4f], [0f, 3f, 0.4f, 4.5f]);
        Assert.Equal(4, cost.Pairs);
        Assert.Equal(0.5, cost.PreferenceAgreement, 12); // pairs 3 and 4 flip
        Assert.Equal(1.0, cost.MaxAbsRewardDelta, 5);
    }
}
