using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Ops;

public class AttentionTests
{
    // Batch 0: all real; batch 1: key 0 padded (query 0 sees nothing) and key 2 padded.
    static Tensor Mask() => Tensor.FromSpan([1f, 1, 1, 1, 0, 1, 0, 1], 2, 4);

    [Fact]
    public void Attention_matches_the_naive_reference_with_and_without_a_mask()
    {
        var qkv = GradCheck.Random(1, 2, 4, 18);
        foreach (var mask in new[] { null, Mask() })
        {
            var y = new Tape().CausalSelfAttention(qkv, 2, mask);
            Assert.Equal([2, 4, 6], y.Shape);
            var expected = new float[2 * 4 * 6];
            AttentionKernel.ReferenceForward(qkv.Data, mask is null ? default : mask.Data, expected, 2, 4, 6, 2);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], y[i], 5);
        }
    }

    [Fact]
    public void A_query_with_no_visible_key_outputs_zero_and_the_first_query_copies_its_value()
    {
        var qkv = GradCheck.Random(2, 2, 4, 18);
        var y = new Tape().CausalSelfAttention(qkv, 2, Mask());
        for (int d = 0; d < 6; d++) Assert.Equal(0f, y[(1 * 4 + 0) * 6 + d]);         // batch 1, query 0: key 0 padded
        for (int d = 0; d < 6; d++) Assert.Equal(qkv[0 * 18 + 12 + d], y[d], 6);       // batch 0, query 0 sees only v_0
        for (int d = 0; d < 6; d++) Assert.Equal(qkv[(4 + 1) * 18 + 12 + d], y[(4 + 1) * 6 + d], 6); // batch 1, query 1 sees only v_1
    }

    [Fact]
    public void Masked_keys_do_not_change_the_output()
    {
        var qkv = GradCheck.Random(3, 2, 4, 18);
        var before = new Tape().CausalSelfAttention(qkv, 2, Mask()).ToArray();
        for (int d = 0; d < 18; d++) qkv[(4 + 2) * 18 + d] += 5f; // batch 1, padded position 2: change q, k and v
        var after = new Tape().CausalSelfAttention(qkv, 2, Mask()).ToArray();
        for (int t = 0; t < 4; t++)
            if (t != 2)
                for (int d = 0; d < 6; d++) Assert.Equal(before[(4 + t) * 6 + d], after[(4 + t) * 6 + d]);
    }

    [Fact]
    public void Attention_gradient_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.CausalSelfAttention(xs[0], 2), [GradCheck.Random(4, 1, 4, 18)]);
    }

    [Fact]
    public void Attention_gradient_with_a_mask_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.CausalSelfAttention(xs[0], 2, Mask()), [GradCheck.Random(5, 2, 4, 18)]);
    }

    [Fact]
    public void Bidirectional_attention_matches_the_naive_reference_and_lets_the_first_query_see_later_keys()
    {
        var qkv = GradCheck.Random(8, 2, 4, 18);
        var y = new Tape().BidirectionalSelfAttention(qkv, 2, Mask());
        var expected = new float[2 * 4 * 6];
        AttentionKernel.ReferenceForward(qkv.Data, Mask().Data, expected, 2, 4, 6, 2, causal: false);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], y[i], 5);
        var causal = new Tape().CausalSelfAttention(qkv, 2, Mask());
        Assert.NotEqual(causal[0], y[0]);                                              // query 0 now reads keys 1..3 too
        for (int d = 0; d < 6; d++) Assert.NotEqual(0f, y[(1 * 4 + 0) * 6 + d]);       // batch 1, query 0 sees keys 1 and 3
    }

    [Fact]
    public void Bidirectional_attention_gradient_with_a_mask_matches_central_differences()
    {
        GradCheck.Check((t, xs) => t.BidirectionalSelfAttention(xs[0], 2, Mask()), [GradCheck.Random(9, 2, 4, 18)]);
    }

    [Fact]
    public void Attention_is_identical_on_one_and_two_threads()
    {
        (float[] Y, float[] Dx) Run(WorkerPool pool)
        {
            var qkv = GradCheck.Random(6, 3, 5, 24);
            var mask = Tensor.FromSpan([1f, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0], 3, 5);
            var tape = new Tape(pool);
            var y = tape.CausalSelfAttention(qkv, 4, mask);
            tape.Backward(y, GradCheck.Random(7, 3, 5, 8).Data);
            return (y.ToArray(), qkv.Grad.ToArray());
        }
        using var two = new WorkerPool(2);
        var one = Run(WorkerPool.Single);
        var both = Run(two);
        Assert.Equal(one.Y, both.Y);
        Assert.Equal(one.Dx, both.Dx);
    }

    [Fact]
    public void Inference_mode_matches_training_mode()
    {
        var qkv = GradCheck.Random(8, 2, 4, 18);
        var train = new Tape().CausalSelfAttention(qkv, 3, Mask()).ToArray();
        var infer = new Tape { RecordsGradients = false }.CausalSelfAttention(qkv, 3, Mask()).ToArray();
        Assert.Equal(train, infer);
    }

    [Fact]
    public void Bad_shapes_name_the_op_and_shapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Tape().CausalSelfAttention(Tensor.Zeros(2, 4, 18), 4));
        Assert.Contains("CausalSelfAttention", ex.Message);
        Assert.Contains("(2, 4, 18)", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => new Tape().CausalSelfAttention(Tensor.Zeros(2, 4, 18), 2, Tensor.Zeros(2, 3)));
        Assert.Contains("(2, 4, 18) and (2, 3)", ex2.Message);
        var ex3 = Assert.Throws<ArgumentException>(() => new Tape().CausalSelfAttention(Tensor.Zeros(2, 4, 17), 1));
        Assert.Contains("3C", ex3.Message);
    }
}
