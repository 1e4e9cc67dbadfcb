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
}
