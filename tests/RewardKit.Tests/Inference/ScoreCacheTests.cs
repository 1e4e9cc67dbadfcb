using RewardKit.Inference;

namespace RewardKit.Tests.Inference;

public class ScoreCacheTests
{
    static CacheKey Key(int i) => ScoreCache.KeyOf("v", "plain", "p", i.ToString());

    [Fact]
    public void The_least_recently_used_entry_is_evicted_first()
    {
        var cache = new ScoreCache(maxEntries: 3);
        for (var i = 0; i < 3; i++) cache.Set(Key(i), i);
        Assert.True(cache.TryGet(Key(0), out _)); // 0 is now the most recent
        cache.Set(Key(3), 3);
        Assert.False(cache.TryGet(Key(1), out _));
        Assert.True(cache.TryGet(Key(0), out var zero));
        Assert.Equal(0f, zero);
        Assert.Equal(3, cache.Count);
        Assert.Equal(1, cache.Evictions);
        Assert.Equal(2, cache.Hits);
        Assert.Equal(1, cache.Misses);
        Assert.Equal(2 / 3.0, cache.HitRate, 12);
    }

    [Fact]
    public void The_byte_budget_bounds_the_entry_count()
    {
        var cache = new ScoreCache(maxEntries: 1_000_000, maxBytes: 10 * ScoreCache.EntryBytes);
        for (var i = 0; i < 100; i++) cache.Set(Key(i), i);
        Assert.Equal(10, cache.Capacity);
        Assert.Equal(10, cache.Count);
        Assert.True(cache.ApproximateBytes <= 10 * ScoreCache.EntryBytes);
    }

    [Fact]
    public void Keys_separate_model_version_template_and_text_boundaries()
    {
        var keys = new[]
        {
            ScoreCache.KeyOf("v1", "plain", "ab", "c"), ScoreCache.KeyOf("v1", "plain", "a", "bc"),
            ScoreCache.KeyOf("v2", "plain", "ab", "c"), ScoreCache.KeyOf("v1", "chat", "ab", "c"),
        };
        Assert.Equal(keys.Length, keys.Distinct().Count());
        Assert.Equal(keys[0], ScoreCache.KeyOf("v1", "plain", "ab", "c"));
    }

    [Fact]
    public void A_zero_capacity_cache_stores_nothing()
    {
        var cache = new ScoreCache(maxEntries: 0);
        cache.Set(Key(1), 1);
        Assert.False(cache.TryGet(Key(1), out _));
        Assert.Equal(0, cache.Count);
    }
}
