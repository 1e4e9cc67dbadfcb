using RewardKit.Benchmarks;
using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Benchmarks.Tests;

/// <summary>The FLOPs behind <c>real_gflops_median</c>: what the pool counts for a tiny reward model, against a hand count.</summary>
public class ExecutedFlopsTests
{
    // 2 blocks, C = 8, 2 heads (hs = 4), T = 5; rows of 3 and 5 real tokens.
    static readonly RewardModelBenchOptions Tiny = new() { Layers = 2, DModel = 8, Heads = 2, Seq = 5, Vocab = 11 };
    static readonly TokenBatch Batch = new TokenBatch([1, 2, 3, 0, 0, 4, 5, 6, 7, 8], 2, 5, [3, 5]).Validate();

    /// <summary>
    /// By hand: a full block on M = B·T = 10 rows is c_attn 2·10·8·24, attention 2 heads × (Q·Kᵀ + P·V) = 2·(2·5·keys·4) per
    /// head, with keys = the row's real length (3 and 5: the padded keys are skipped; one row block covers T = 5), c_proj
    /// 2·10·8·8, c_fc 2·10·8·32, mlp c_proj 2·10·32·8. The last block runs c_attn and attention on every row but its
    /// position-wise layers on the B = 2 reward rows only; the head is 2·2·8·1.
    /// </summary>
    static long HandCountedForward(bool lastBlockRowsOnly)
    {
        long attention = 2 * (2 * (2L * 5 * 3 * 4)) + 2 * (2 * (2L * 5 * 5 * 4));
        long PositionWise(int rows) => 2L * rows * 8 * 8 + 2L * rows * 8 * 32 + 2L * rows * 32 * 8;
        long cAttn = 2L * 10 * 8 * 24;
        return cAttn + attention + PositionWise(10) + cAttn + attention + PositionWise(lastBlockRowsOnly ? 2 : 10) + 2L * 2 * 8 * 1;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_pool_counts_a_tiny_forward_exactly_as_by_hand(bool fullLastBlock)
    {
        var model = RewardModelBench.CreateModel(Tiny with { FullLastBlock = fullLastBlock });
        using var pool = new WorkerPool(2);
        var tape = new Tape(pool) { RecordsGradients = false };
        long before = pool.GemmFlops;
        model.Forward(tape, Batch);
        Assert.Equal(HandCountedForward(lastBlockRowsOnly: !fullLastBlock), pool.GemmFlops - before);
    }

    [Fact]
    public void A_training_step_executes_three_times_the_forward_products()
    {
        // Every product's backward is two products of its size (dX and dW; attention's dP, dV, dQ, dK for S and P·V).
        var model = RewardModelBench.CreateModel(Tiny);
        using var pool = new WorkerPool(1);
        var tape = new Tape(pool);
        long before = pool.GemmFlops;
        var rewards = model.Forward(tape, Batch, training: true);
        tape.Backward(tape.Sum(rewards));
        Assert.Equal(3 * HandCountedForward(lastBlockRowsOnly: true), pool.GemmFlops - before);
    }
}
