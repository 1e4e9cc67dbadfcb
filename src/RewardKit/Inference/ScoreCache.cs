using System.Security.Cryptography;
using System.Text;

namespace RewardKit.Inference;

/// <summary>
/// A bounded, thread-safe, least-recently-used cache of raw rewards keyed by the sha256 of
/// (model version, template, prompt, response). Only the 32-byte hash and the reward are kept, so the memory it holds
/// is <see cref="EntryBytes"/> per entry whatever the text length; both an entry count and a byte budget bound it.
/// </summary>
public sealed class ScoreCache
{
    /// <summary>Approximate managed bytes one entry holds (key, value, LRU node and dictionary slot).</summary>
    public const int EntryBytes = 128;

    readonly Dictionary<CacheKey, LinkedListNode<(CacheKey Key, float Reward)>> _map = new();
    readonly LinkedList<(CacheKey Key, float Reward)> _lru = new();
    readonly Lock _lock = new();
    long _hits, _misses, _evictions;

    /// <summary>Creates a cache holding at most <paramref name="maxEntries"/> entries and <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="maxEntries">Entry bound (default 100,000); 0 disables the cache.</param>
    /// <param name="maxBytes">Byte bound (default 64 MiB).</param>
    public ScoreCache(int maxEntries = 100_000, long maxBytes = 64L << 20)
    {
        if (maxEntries < 0) throw new ArgumentOutOfRangeException(nameof(maxEntries), maxEntries, "the cache entry bound must be >= 0 (0 disables the cache).");
        if (maxBytes < 0) throw new ArgumentOutOfRangeException(nameof(maxBytes), maxBytes, "the cache byte bound must be >= 0.");
        Capacity = (int)Math.Min(maxEntries, maxBytes / EntryBytes);
    }

    /// <summary>The largest number of entries kept.</summary>
    public int Capacity { get; }

    /// <summary>Entries held now.</summary>
    public int Count { get { lock (_lock) return _map.Count; } }

    /// <summary>Approximate bytes held now.</summary>
    public long ApproximateBytes => (long)Count * EntryBytes;

    /// <summary>Lookups that found a reward.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups that found nothing.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Entries dropped to stay within the bounds.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Hits / (hits + misses), 0 before the first lookup.</summary>
    public double HitRate { get { var h = Hits; var t = h + Misses; return t == 0 ? 0 : (double)h / t; } }

    /// <summary>The key of one (prompt, response) pair for a model version and template.</summary>
    public static CacheKey KeyOf(string modelVersion, string template, string prompt, string response)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var part in (ReadOnlySpan<string>)[modelVersion, template, prompt, response])
        {
            // Length-prefix each part so ("ab", "c") and ("a", "bc") never collide.
            var bytes = Encoding.UTF8.GetBytes(part);
            BitConverter.TryWriteBytes(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return new CacheKey(
            BitConverter.ToUInt64(digest[..8]), BitConverter.ToUInt64(digest[8..16]),
            BitConverter.ToUInt64(digest[16..24]), BitConverter.ToUInt64(digest[24..]));
    }

    /// <summary>Looks a reward up, counting a hit or a miss and marking the entry as recently used.</summary>
    public bool TryGet(CacheKey key, out float reward)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                reward = node.Value.Reward;
                _hits++;
                return true;
            }
            _misses++;
        }
        reward = 0;
        return false;
    }

    /// <summary>Stores a reward, evicting the least recently used entries beyond <see cref="Capacity"/>.</summary>
    public void Set(CacheKey key, float reward)
    {
        if (Capacity == 0) return;
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                node.Value = (key, reward);
                _lru.Remove(node);
                _lru.AddFirst(node);
                return;
            }
            _map[key] = _lru.AddFirst((key, reward));
            while (_map.Count > Capacity)
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _map.Remove(last.Value.Key);
                _evictions++;
            }
        }
    }

    /// <summary>Drops every entry (the counters are kept).</summary>
    public void Clear()
    {
        lock (_lock) { _map.Clear(); _lru.Clear(); }
    }
}

/// <summary>A sha256 digest as four 64-bit words.</summary>
public readonly record struct CacheKey(ulong A, ulong B, ulong C, ulong D);
