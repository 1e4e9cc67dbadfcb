using RewardKit.Distributed;

namespace RewardKit.Tests.Distributed;

public class CommunicatorExtensionsTests
{
    [Fact]
    public void Shards_are_disjoint_contiguous_cover_every_item_in_order_and_differ_by_at_most_one()
    {
        foreach (int size in new[] { 1, 2, 3, 7 })
            for (int count = 0; count <= 40; count++)
            {
                var shards = Enumerable.Range(0, size).Select(r => CommunicatorExtensions.Shard(count, r, size).GetOffsetAndLength(count)).ToList();
                Assert.Equal(Enumerable.Range(0, count), shards.SelectMany(s => Enumerable.Range(s.Offset, s.Length)));
                Assert.True(shards.Max(s => s.Length) - shards.Min(s => s.Length) <= 1);
            }
    }

    [Fact]
    public void A_rank_outside_the_job_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CommunicatorExtensions.Shard(10, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => CommunicatorExtensions.Shard(10, 0, 0));
    }

    [Fact]
    public void A_block_and_a_string_broadcast_in_a_one_process_job_come_back_unchanged()
    {
        var c = SingleProcessCommunicator.Instance;
        Assert.Equal([(byte)1, (byte)2, (byte)3], c.BroadcastBlock([1, 2, 3]));
        Assert.Equal("héllo", c.BroadcastString("héllo"));
    }

    [Fact]
    public void Values_that_agree_on_every_rank_pass_the_check()
    {
        var c = new MirrorCommunicator(rank: 0, size: 3);
        c.RequireSameEverywhere("the data", "abc", "hint");   // a mirror job: every rank holds "abc"
        Assert.True(c.Collectives > 0);
        SingleProcessCommunicator.Instance.RequireSameEverywhere("the data", "abc", "hint");
    }
}
