using RewardKit.Tensors;

namespace RewardKit.Tensors.Tests.Ops;

public class MatMulTests
{
    [Fact]
    public void MatMul_matches_hand_values()
    {
        var a = Tensor.FromSpan([1f, 2, 3, 4, 5, 6], 2, 3);
        var b = Tensor.FromSpan([1f, 0, 0, 1, 1, 1], 3, 2);
        Assert.Equal([4f, 5, 10, 11], new Tape().MatMul(a, b).ToArray());
        // aᵀ read in place: a (3, 2) viewed as (2, 3)ᵀ.
        var at = Tensor.FromSpan([1f, 4, 2, 5, 3, 6], 3, 2);
        Assert.Equal([4f, 5, 10, 11], new Tape().MatMul(at, b, transposeA: true).ToArray());
        var bt = Tensor.FromSpan([1f, 0, 1, 0, 1, 1], 2, 3);
        Assert.Equal([4f, 5, 10, 11], new Tape().MatMul(a, bt, transposeB: true).ToArray());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void MatMul_gradient_matches_central_differences(bool ta, bool tb)
    {
        int m = 3, k = 4, n = 2;
        var a = ta ? GradCheck.Random(1, k, m) : GradCheck.Random(1, m, k);
        var b = tb ? GradCheck.Random(2, n, k) : GradCheck.Random(2, k, n);
        GradCheck.Check((t, xs) => t.MatMul(xs[0], xs[1], ta, tb), [a, b]);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void BatchedMatMul_gradient_matches_central_differences(bool ta, bool tb)
    {
        int batch = 2, m = 3, k = 4, n = 2;
        var a = ta ? GradCheck.Random(1, batch, k, m) : GradCheck.Random(1, batch, m, k);
        var b = tb ? GradCheck.Random(2, batch, n, k) : GradCheck.Random(2, batch, k, n);
        GradCheck.Check((t, xs) => t.BatchedMatMul(xs[0], xs[1], ta, tb), [a, b]);
    }

    [Fact]
    public void BatchedMatMul_matches_per_item_products()
    {
        var a = GradCheck.Random(1, 3, 2, 4);
        var b = GradCheck.Random(2, 3, 4, 5);
        var c = new Tape().BatchedMatMul(a, b);
        Assert.Equal([3, 2, 5], c.Shape);
        for (int i = 0; i < 3; i++)
        {
            var ci = new Tape().MatMul(a.Slice(i, 1).Reshape(2, 4), b.Slice(i, 1).Reshape(4, 5));
            Assert.Equal(ci.ToArray(), c.Slice(i, 1).ToArray());
        }
    }

    [Fact]
    public void MatMul_with_leading_axes_flattens_them_into_rows()
    {
        var a = GradCheck.Random(1, 2, 3, 4);
        var b = GradCheck.Random(2, 4, 5);
        var c = new Tape().MatMul(a, b);
        Assert.Equal([2, 3, 5], c.Shape);
        Assert.Equal(new Tape().MatMul(a.Reshape(6, 4), b).ToArray(), c.ToArray());
    }

    [Fact]
    public void Shape_mismatch_names_the_op_and_shapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tape().MatMul(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)));
        Assert.Contains("MatMul", ex.Message);
        Assert.Contains("(2, 3) and (4, 5)", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => new Tape().BatchedMatMul(Tensor.Zeros(2, 2, 3), Tensor.Zeros(3, 3, 5)));
        Assert.Contains("BatchedMatMul", ex2.Message);
        Assert.Contains("(2, 2, 3) and (3, 3, 5)", ex2.Message);
    }
}
