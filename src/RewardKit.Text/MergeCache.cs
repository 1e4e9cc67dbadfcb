using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RewardKit.Text;

/// <summary>
/// A bounded map from a pre-token's bytes to its BPE ids, looked up by span without allocating. One instance is
/// used by one thread at a time (see <see cref="MergeCachePool"/>); when full it is cleared and refilled.
/// </summary>
sealed class MergeCache
{
    readonly Dictionary<byte[], int[]> _map;
    readonly Dictionary<byte[], int[]>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    readonly int _capacity;

    public MergeCache(int capacity)
    {
        _capacity = capacity;
        _map = new Dictionary<byte[], int[]>(Math.Min(capacity, 4096), ByteSpanComparer.Instance);
        _lookup = _map.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Count => _map.Count;

    public bool TryGet(ReadOnlySpan<byte> piece, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out int[]? ids) =>
        _lookup.TryGetValue(piece, out ids);

    public void Add(ReadOnlySpan<byte> piece, int[] ids)
    {
        if (_map.Count >= _capacity) _map.Clear();
        _lookup[piece] = ids;
    }
}

/// <summary>
/// Hands out <see cref="MergeCache"/> instances so concurrent encoders never share one: a fixed set of slots taken
/// and given back with interlocked exchanges (no locks on the encode path).
/// </summary>
sealed class MergeCachePool
{
    readonly MergeCache?[] _slots;
    readonly int _capacityPerCache;

    public MergeCachePool(int slots, int capacityPerCache)
    {
        _slots = new MergeCache?[Math.Max(1, slots)];
        _capacityPerCache = capacityPerCache;
    }

    public MergeCache Rent()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            var cache = Interlocked.Exchange(ref _slots[i], null);
            if (cache != null) return cache;
        }
        return new MergeCache(_capacityPerCache);
    }

    public void Return(MergeCache cache)
    {
        for (int i = 0; i < _slots.Length; i++)
            if (Interlocked.CompareExchange(ref _slots[i], cache, null) == null) return;
    }
}

/// <summary>Compares byte arrays by content, and byte spans with byte arrays, for the cache's span lookups.</summary>
sealed class ByteSpanComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteSpanComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x == null ? y == null : y != null && x.AsSpan().SequenceEqual(y);
    public int GetHashCode(byte[] obj) => Hash(obj);
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
    public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    /// <summary>A fast multiplicative hash over 8-byte words (pre-tokens are short).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Hash(ReadOnlySpan<byte> s)
    {
        ulong h = 0x9E3779B97F4A7C15UL ^ (ulong)s.Length;
        while (s.Length >= 8)
        {
            h = (h ^ MemoryMarshal.Read<ulong>(s)) * 0x100000001B3UL;
            h ^= h >> 29;
            s = s.Slice(8);
        }
        ulong tail = 0;
        for (int i = 0; i < s.Length; i++) tail |= (ulong)s[i] << (8 * i);
        h = (h ^ tail) * 0xFF51AFD7ED558CCDUL;
        h ^= h >> 32;
        return (int)h;
    }
}
