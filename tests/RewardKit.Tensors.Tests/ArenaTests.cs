namespace RewardKit.Tensors.Tests;

public class ArenaTests
{
    [Fact]
    public void Release_hands_back_what_was_allocated_after_the_mark_and_the_next_allocation_reuses_it()
    {
        var arena = new Arena();
        var (keptBlock, keptOffset) = arena.Allocate(100, clear: true);
        var mark = arena.Mark();
        var (first, firstOffset) = arena.Allocate(5000, clear: false);
        arena.Allocate(3000, clear: false);
        long high = arena.HighWater;
        arena.Release(mark);
        Assert.Equal(mark.InUse, arena.InUse);
        var (again, againOffset) = arena.Allocate(5000, clear: false);
        Assert.Same(first, again);
        Assert.Equal(firstOffset, againOffset);
        Assert.Equal(high, arena.HighWater);           // the peak is remembered
        Assert.NotEqual(keptOffset, againOffset);      // what came before the mark stays allocated
        Assert.Same(keptBlock, again);
    }

    [Fact]
    public void A_mark_from_before_a_reset_is_refused()
    {
        var arena = new Arena();
        arena.Allocate(10, clear: false);
        var mark = arena.Mark();
        arena.Reset();
        Assert.Contains("beyond the current fill", Assert.Throws<InvalidOperationException>(() => arena.Release(mark)).Message);
    }

    [Fact]
    public void A_freed_allocation_is_reused_by_the_next_allocation_of_its_size_and_zeroed_when_asked()
    {
        var arena = new Arena();
        var (block, offset) = arena.Allocate(1000, clear: false);
        block.AsSpan(offset, 1000).Fill(7f);
        arena.Allocate(40, clear: false);
        long inUse = arena.InUse;
        arena.Free(block, offset, 1000);
        Assert.Equal(inUse - 1008, arena.InUse);            // 1000 rounded up to 64 bytes
        var (other, otherOffset) = arena.Allocate(500, clear: false);
        Assert.NotEqual(offset, otherOffset);               // another size does not take it
        var (again, againOffset) = arena.Allocate(1000, clear: true);
        Assert.Same(block, again);
        Assert.Equal(offset, againOffset);
        Assert.All(again.AsSpan(againOffset, 1000).ToArray(), v => Assert.Equal(0f, v));
        _ = other;
    }

    [Fact]
    public void Reset_forgets_freed_allocations_so_a_step_reuses_the_same_memory_as_the_last()
    {
        var arena = new Arena();
        var (first, firstOffset) = arena.Allocate(300, clear: false);
        arena.Free(first, firstOffset, 300);
        arena.Reset();
        var (a, aOffset) = arena.Allocate(300, clear: false);
        var (b, bOffset) = arena.Allocate(300, clear: false);
        Assert.Same(first, a);
        Assert.Equal(firstOffset, aOffset);
        Assert.NotEqual(aOffset, bOffset);                  // the freed entry did not survive the reset to be handed out twice
        _ = b;
    }
}
