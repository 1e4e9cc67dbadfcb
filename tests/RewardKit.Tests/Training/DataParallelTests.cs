using RewardKit.Tensors;
using RewardKit.Tests.Distributed;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

public class DataParallelTests
{
    static DataParallel Rank(int rank, int size) => new(new MirrorCommunicator(rank, size), seed: 7);

    [Fact]
    public void In_one_process_a_rank_takes_the_whole_batch_at_full_share()
    {
        var dp = new DataParallel(RewardKit.Distributed.SingleProcessCommunicator.Instance, 7);
        var (part, share) = dp.Shard([1, 2, 3], null);
        Assert.Equal([1, 2, 3], part);
        Assert.Equal(1f, share);
    }

    [Fact]
    public void The_shares_of_all_ranks_are_their_rows_over_the_batch_and_sum_to_one()
    {
        int[] batch = [10, 11, 12, 13, 14];
        var shards = Enumerable.Range(0, 2).Select(r => Rank(r, 2).Shard(batch, null)).ToList();
        Assert.Equal(batch, shards.SelectMany(s => s.Part));
        Assert.Equal([0.4f, 0.6f], shards.Select(s => s.Share));
    }

    [Fact]
    public void With_weights_a_share_is_the_shards_weight_over_the_batchs()
    {
        float[] weights = [1, 0, 0, 2, 1];
        int[] batch = [0, 1, 2, 3, 4];
        var shards = Enumerable.Range(0, 2).Select(r => Rank(r, 2).Shard(batch, i => weights[i])).ToList();
        Assert.Equal([0.25f, 0.75f], shards.Select(s => s.Share));
    }

    [Fact]
    public void A_rank_with_no_rows_or_only_rows_of_weight_zero_gets_an_empty_part()
    {
        var (part, share) = Rank(0, 2).Shard([5], null);
        Assert.Empty(part);
        Assert.Equal(0f, share);
        var (other, otherShare) = Rank(1, 2).Shard([5], null);
        Assert.Equal([5], other);
        Assert.Equal(1f, otherShare);
        Assert.Empty(Rank(0, 2).Shard([0, 1], i => i).Part);   // rank 0's row weighs 0
    }

    [Fact]
    public void A_step_combines_the_rewards_in_global_order_with_tokens_and_the_stop_flag()
    {
        var dp = new DataParallel(RewardKit.Distributed.SingleProcessCommunicator.Instance, 7);
        var (chosen, rejected, tokens, stop) = dp.CombineStep(
            [new(2, Range.All, [1f, 2f], [-1f, -2f]), new(1, Range.All, [3f], [-3f])], tokens: 42, stop: true);
        Assert.Equal([1f, 2f, 3f], chosen);
        Assert.Equal([-1f, -2f, -3f], rejected);
        Assert.Equal((42L, true), (tokens, stop));

        var (c2, _, _, stop2) = Rank(1, 2).CombineStep([new(4, 2..4, [5f, 6f], [0f, 0f])], 0, false);
        Assert.Equal([0f, 0f, 10f, 12f], c2);   // rank 1's rows land at positions 2 and 3 (the mirror job doubles them)
        Assert.False(stop2);
    }

    [Fact]
    public void Each_rank_and_step_masks_with_its_own_reproducible_dropout_stream()
    {
        var shared = new Rng(1);
        Assert.Same(shared, new DataParallel(RewardKit.Distributed.SingleProcessCommunicator.Instance, 7).Dropout(shared, 3, 0));
        ulong Draw(int rank, long step, int micro) => Rank(rank, 2).Dropout(shared, step, micro).NextUInt64();
        Assert.Equal(Draw(0, 3, 0), Draw(0, 3, 0));
        Assert.Equal(4, new[] { Draw(0, 3, 0), Draw(1, 3, 0), Draw(0, 4, 0), Draw(0, 3, 1) }.Distinct().Count());
    }
}
