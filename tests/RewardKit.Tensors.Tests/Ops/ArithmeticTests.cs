using FsCheck;
using FsCheck.Fluent;

namespace RewardKit.Tensors.Tests.Ops;

public class ArithmeticTests
{
    public static TheoryData<int[], int[]> BroadcastShapes => new()
    {
        { [2, 3], [2, 3] },       // same shape: one row
        { [2, 3, 4], [4] },       // (..., C) op (C): bias rows
        { [3, 1], [1, 4] },       // outer product
        { [2, 1, 3], [4, 1] },    // both broadcast
        { [], [2, 3] },           // scalar op tensor
        { [2, 3], [1] },
        { [2, 1, 3, 1], [1, 2, 1, 2] },
    };

    public static TheoryData<string> OpNames => new() { "Add", "Sub", "Mul", "Div" };

    static Tensor Apply(Tape t, string op, Tensor a, Tensor b) => op switch
    {
        "Add" => t.Add(a, b),
        "Sub" => t.Sub(a, b),
        "Mul" => t.Mul(a, b),
        "Div" => t.Div(a, b),
        _ => throw new ArgumentException(op),
    };

    static float Naive(string op, float a, float b) => op switch
    {
        "Add" => a + b, "Sub" => a - b, "Mul" => a * b, "Div" => a / b, _ => throw new ArgumentException(op),
    };

    /// <summary>Broadcasts by the definition: output index → each input's index with size-1 axes pinned to 0.</summary>
    internal static int BroadcastIndex(int flat, int[] outShape, int[] inShape)
    {
        int index = 0, stride = 1;
        for (int d = outShape.Length - 1; d >= 0; d--)
        {
            int coord = flat % outShape[d];
            flat /= outShape[d];
            int inD = d - (outShape.Length - inShape.Length);
            if (inD < 0) continue;
            if (inShape[inD] != 1) index += coord * stride;
            stride *= inShape[inD];
        }
        return index;
    }

    static Tensor Positive(ulong seed, int[] shape)
    {
        var t = GradCheck.Random(seed, shape);
        var d = t.Data;
        for (int i = 0; i < d.Length; i++) d[i] = 0.5f + Math.Abs(d[i]); // away from 0 for Div
        return t;
    }

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void Every_op_equals_the_naive_loop_over_the_broadcast_index(int[] sa, int[] sb)
    {
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div" })
        {
            var a = Positive(1, sa);
            var b = Positive(2, sb);
            var y = Apply(new Tape(), op, a, b);
            Assert.Equal(Shapes.Broadcast(op, sa, sb), y.Shape);
            for (int i = 0; i < y.Length; i++)
                Assert.Equal(Naive(op, a[BroadcastIndex(i, y.Shape, sa)], b[BroadcastIndex(i, y.Shape, sb)]), y[i], 6);
        }
    }

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void Gradients_match_central_differences_under_broadcasting(int[] sa, int[] sb)
    {
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div" })
            GradCheck.Check((t, xs) => Apply(t, op, xs[0], xs[1]), [Positive(3, sa), Positive(4, sb)]);
    }

    [Theory]
    [MemberData(nameof(OpNames))]
    public void An_op_on_one_tensor_twice_accumulates_both_gradients(string op)
    {
        GradCheck.Check((t, xs) => Apply(t, op, xs[0], xs[0]), [Positive(5, [2, 3])]);
    }

    [Fact]
    public void Same_shape_add_on_two_threads_equals_the_definition_with_both_gradients()
    {
        // 1031 × 1031 elements: above the parallel threshold, so the residual path is split across the pool.
        using var pool = new RewardKit.Tensors.Kernels.WorkerPool(2);
        var a = GradCheck.Random(1, 1031, 1031);
        var b = GradCheck.Random(2, 1031, 1031);
        var dy = GradCheck.Random(3, 1031, 1031).Data;
        var tape = new Tape(pool);
        var y = tape.Add(a, b);
        tape.Backward(y, dy);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.Equal(a[i] + b[i], y[i]);
            Assert.Equal(dy[i], a.Grad[i]);
            Assert.Equal(dy[i], b.Grad[i]);
        }
        var self = GradCheck.Random(4, 1031, 1031);
        var t2 = new Tape(pool);
        t2.Backward(t2.Add(self, self), dy);
        for (int i = 0; i < self.Length; i++) Assert.Equal(2 * dy[i], self.Grad[i]);
    }

    [Fact]
    public void Only_inputs_that_require_a_gradient_receive_one()
    {
        var a = GradCheck.Random(1, 2, 3);
        var b = Tensor.Ones(3);
        var tape = new Tape();
        tape.Backward(tape.Sum(tape.Mul(a, b)));
        Assert.All(a.Grad.ToArray(), g => Assert.Equal(1f, g));
        Assert.False(b.HasGrad);
    }

    [Fact]
    public void Scalar_forms_match_their_definitions_and_gradients()
    {
        var x = GradCheck.Random(6, 4, 5);
        var t = new Tape();
        var y = t.AddScalar(t.Scale(x, -2.5f), 1.5f);
        for (int i = 0; i < x.Length; i++) Assert.Equal(-2.5f * x[i] + 1.5f, y[i], 6);
        GradCheck.Check((tp, xs) => tp.AddScalar(tp.Scale(xs[0], -2.5f), 1.5f), [x]);
        GradCheck.Check((tp, xs) => tp.Neg(xs[0]), [x]);
    }

    [Fact]
    public void Shapes_that_do_not_broadcast_throw_naming_the_op_and_both_shapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tape().Mul(Tensor.Zeros(2, 3), Tensor.Zeros(4)));
        Assert.Contains("Mul", ex.Message);
        Assert.Contains("(2, 3)", ex.Message);
        Assert.Contains("(4)", ex.Message);
    }

    [Fact]
    public void Empty_tensors_broadcast_to_empty_outputs()
    {
        var y = new Tape().Add(Tensor.Zeros(0, 3), Tensor.Zeros(3));
        Assert.Equal([0, 3], y.Shape);
    }

    // ---- properties -----------------------------------------------------------------------------------------------

    /// <summary>Two random shapes that broadcast: a common shape with axes set to 1 or dropped on either side.</summary>
    static Gen<(int[] A, int[] B)> BroadcastablePair =>
        from rank in Gen.Choose(0, 4)
        from dims in Gen.ArrayOf(Gen.Choose(1, 4), rank)
        from maskA in Gen.ArrayOf(Gen.Choose(0, 2), rank)
        from maskB in Gen.ArrayOf(Gen.Choose(0, 2), rank)
        from dropA in Gen.Choose(0, rank)
        from dropB in Gen.Choose(0, rank)
        select (dims.Select((d, i) => maskA[i] == 0 ? 1 : d).Skip(dropA).ToArray(),
                dims.Select((d, i) => maskB[i] == 0 ? 1 : d).Skip(dropB).ToArray());

    [Fact]
    public void Property_broadcast_add_and_mul_equal_the_naive_loop()
    {
        var prop = Prop.ForAll(BroadcastablePair.ToArbitrary(), pair =>
        {
            var a = Positive(11, pair.A);
            var b = Positive(12, pair.B);
            var t = new Tape();
            var sum = t.Add(a, b);
            var product = t.Mul(a, b);
            for (int i = 0; i < sum.Length; i++)
            {
                float av = a[BroadcastIndex(i, sum.Shape, pair.A)], bv = b[BroadcastIndex(i, sum.Shape, pair.B)];
                if (sum[i] != av + bv || product[i] != av * bv) return false;
            }
            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), prop);
    }

    [Fact]
    public void Property_the_gradient_of_a_broadcast_input_sums_the_output_gradient()
    {
        // d Σ(w ⊙ (a + b)) / d a summed over a's elements equals Σ w, whatever the broadcast.
        var prop = Prop.ForAll(BroadcastablePair.ToArbitrary(), pair =>
        {
            var a = GradCheck.Random(13, pair.A);
            var b = GradCheck.Random(14, pair.B);
            var t = new Tape();
            var y = t.Add(a, b);
            var w = Tensor.Normal(new Rng(15), 0, 1, y.Shape).Data.ToArray();
            t.Backward(y, w);
            double total = w.Sum(v => (double)v);
            double ga = a.Grad.ToArray().Sum(v => (double)v), gb = b.Grad.ToArray().Sum(v => (double)v);
            return Math.Abs(ga - total) < 1e-4 && Math.Abs(gb - total) < 1e-4;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), prop);
    }
}
