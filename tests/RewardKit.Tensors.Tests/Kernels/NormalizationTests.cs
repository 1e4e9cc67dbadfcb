using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Kernels;

public class NormalizationTests
{
    [Theory]
    [MemberData(nameof(ActivationsTests.Widths), MemberType = typeof(ActivationsTests))]
    public void LayerNorm_row_kernels_match_the_reference_at_every_length_1_to_67_and_129(Activations.Width width)
    {
        foreach (int c in Enumerable.Range(1, 67).Append(129).Append(256))
        {
            var rng = new Rng(500 + (ulong)c);
            // An offset mean and a spread that is not 1 so that both statistics matter.
            var x = Tensor.Normal(rng, 3, 2, c).ToArray();
            var w = Tensor.Normal(rng, 1, 0.5f, c).ToArray();
            var b = Tensor.Normal(rng, 0, 1, c).ToArray();
            var dy = Tensor.Normal(rng, 0, 1, c).ToArray();
            var y = new float[c];
            var yRef = new float[c];
            var (mean, rstd) = Normalization.LayerNormForward(x, w, b, y, 1e-5f, width);
            var (meanRef, rstdRef) = Normalization.LayerNormForwardReference(x, w, b, yRef, 1e-5f);
            Assert.Equal(meanRef, mean, 1e-5f * Math.Max(1f, Math.Abs(meanRef)));
            Assert.Equal(rstdRef, rstd, 1e-5f * rstdRef);
            for (int i = 0; i < c; i++) Assert.Equal(yRef[i], y[i], 2e-5f * Math.Max(1f, Math.Abs(yRef[i])));

            float[] Fill(float v) => Enumerable.Repeat(v, c).ToArray();
            var (dx, dw, db) = (Fill(0.25f), Fill(-0.5f), Fill(0.75f));
            var (dxRef, dwRef, dbRef) = (Fill(0.25f), Fill(-0.5f), Fill(0.75f));
            Normalization.LayerNormBackward(x, dy, w, mean, rstd, dx, dw, db, width);
            Normalization.LayerNormBackwardReference(x, dy, w, 1e-5f, dxRef, dwRef, dbRef);
            for (int i = 0; i < c; i++)
            {
                Assert.Equal(dxRef[i], dx[i], 2e-5f * Math.Max(1f, Math.Abs(dxRef[i])));
                Assert.Equal(dwRef[i], dw[i], 2e-5f * Math.Max(1f, Math.Abs(dwRef[i])));
                Assert.Equal(dbRef[i], db[i], 1e-6f * Math.Max(1f, Math.Abs(dbRef[i])));
            }

            // Without dx only the parameter gradients move.
            var (dw2, db2) = (Fill(-0.5f), Fill(0.75f));
            Normalization.LayerNormBackward(x, dy, w, mean, rstd, Span<float>.Empty, dw2, db2, width);
            Assert.Equal(dw, dw2);
            Assert.Equal(db, db2);
        }
    }

    [Fact]
    public void LayerNorm_row_kernels_reject_mismatched_lengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => Normalization.LayerNormForward(new float[3], new float[3], new float[3], new float[2], 1e-5f, Activations.Best));
        Assert.Contains("LayerNormForward", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Normalization.LayerNormBackward(new float[3], new float[3], new float[3], 0, 1, new float[2], new float[3], new float[3], Activations.Best));
        Assert.Contains("LayerNormBackward", ex.Message);
    }
}
