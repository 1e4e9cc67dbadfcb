using RewardKit.Tensors;
using RewardKit.Text;
using RewardKit.Tests.Distributed;
using RewardKit.Training;

namespace RewardKit.Tests.Training;

public class DataParallelTests
{
    static DataParallel Rank(int rank, int size) => new(new MirrorCommunicator(rank, size), seed: 7);

    [Fact]
    public void In_one_process_a_rank_takes_the_whole_batch_at_full_share()
    {
        var (part, range, share) = DataParallel.SingleProcess(7).Shard([1, 2, 3], null);
        Assert.Equal([1, 2, 3], part);
        Assert.Equal(Range.All, range);
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
        var (part, _, share) = Rank(0, 2).Shard([5], null);
        Assert.Empty(part);
        Assert.Equal(0f, share);
        var (other, _, otherShare) = Rank(1, 2).Shard([5], null);
        Assert.Equal([5], other);
        Assert.Equal(1f, otherShare);
        Assert.Empty(Rank(0, 2).Shard([0, 1], i => i).Part);   // rank 0's row weighs 0
    }

    [Fact]
    public void A_step_gathers_the_rewards_of_every_rank_in_global_order()
    {
        var (chosen, rejected) = DataParallel.SingleProcess(7).GatherRewards(
            [new(2, Range.All, [1f, 2f], [-1f, -2f]), new(1, Range.All, [3f], [-3f])]);
        Assert.Equal([1f, 2f, 3f], chosen);
        Assert.Equal([-1f, -2f, -3f], rejected);

        var (c2, r2) = Rank(1, 2).GatherRewards([new(4, 2..4, [5f, 6f], [7f, 8f]), new(2, 1..2, [9f], [1f])]);
        Assert.Equal([0f, 0f, 10f, 12f, 0f, 18f], c2);   // rank 1's rows land at their global positions (the mirror job doubles them)
        Assert.Equal([0f, 0f, 14f, 16f, 0f, 2f], r2);
    }

    [Fact]
    public void Sharded_scoring_scores_only_this_ranks_pairs_and_puts_them_at_their_positions()
    {
        var pairs = Enumerable.Range(0, 5).Select(i => new EncodedPair(new EncodedSequence([i], 0, default), new EncodedSequence([i, i], 0, default), 0, 1)).ToArray();
        var scored = new List<int>();
        var (chosen, rejected) = Rank(1, 2).ScoreSharded(pairs, shard =>
        {
            scored.AddRange(shard.Select(p => p.Chosen.Ids[0]));
            return ([.. shard.Select(p => (float)p.Chosen.Ids[0])], [.. shard.Select(p => -(float)p.Chosen.Ids[0])]);
        });
        Assert.Equal([2, 3, 4], scored);
        Assert.Equal([0f, 0f, 4f, 6f, 8f], chosen);
        Assert.Equal([0f, 0f, -4f, -6f, -8f], rejected);
    }

    [Fact]
    public void The_ranks_stop_together_when_any_of_them_is_asked_to()
    {
        Assert.True(DataParallel.SingleProcess(7).AgreeToStop(true));
        Assert.False(DataParallel.SingleProcess(7).AgreeToStop(false));
        Assert.True(Rank(1, 2).AgreeToStop(true));
        Assert.False(Rank(1, 2).AgreeToStop(false));
    }

    [Fact]
    public void Each_rank_and_step_masks_with_its_own_reproducible_dropout_stream()
    {
        var shared = new Rng(1);
        Assert.Same(shared, DataParallel.SingleProcess(7).Dropout(shared, 3, 0));
        ulong Draw(int rank, long step, int micro) => Rank(rank, 2).Dropout(shared, step, micro).NextUInt64();
        Assert.Equal(Draw(0, 3, 0), Draw(0, 3, 0));
        Assert.Equal(4, new[] { Draw(0, 3, 0), Draw(1, 3, 0), Draw(0, 4, 0), Draw(0, 3, 1) }.Distinct().Count());
    }
}
