using System.Buffers.Binary;
using System.Text;

namespace RewardKit.Distributed;

/// <summary>Helpers built from the <see cref="ICommunicator"/> primitives.</summary>
public static class CommunicatorExtensions
{
    /// <summary>True on rank 0, the rank that writes files and reports progress.</summary>
    public static bool IsRoot(this ICommunicator communicator) => communicator.Rank == 0;

    /// <summary>
    /// This rank's contiguous share of <paramref name="count"/> items: [count·rank/size, count·(rank+1)/size), so shares
    /// differ by at most one item, are disjoint, and cover every item in order.
    /// </summary>
    public static Range Shard(this ICommunicator communicator, int count) => Shard(count, communicator.Rank, communicator.Size);

    /// <summary>Rank <paramref name="rank"/>'s share of <paramref name="count"/> items among <paramref name="size"/> ranks (see <see cref="Shard(ICommunicator, int)"/>).</summary>
    public static Range Shard(int count, int rank, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if ((uint)rank >= (uint)size) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"ranks run from 0 to {size - 1}.");
        return new Range((int)((long)count * rank / size), (int)((long)count * (rank + 1) / size));
    }

    /// <summary>Rank <paramref name="root"/>'s <paramref name="block"/> (of any length) on every rank; other ranks pass null.</summary>
    public static byte[] BroadcastBlock(this ICommunicator communicator, byte[]? block, int root = 0)
    {
        if (communicator.Size == 1) return block ?? throw new ArgumentNullException(nameof(block), "the root passes the block.");
        Span<byte> header = stackalloc byte[sizeof(long)];
        if (communicator.Rank == root)
        {
            ArgumentNullException.ThrowIfNull(block);
            BinaryPrimitives.WriteInt64LittleEndian(header, block.Length);
        }
        communicator.Broadcast(header, root);
        var result = communicator.Rank == root ? block! : new byte[BinaryPrimitives.ReadInt64LittleEndian(header)];
        communicator.Broadcast(result.AsSpan(), root);
        return result;
    }

    /// <summary>Rank <paramref name="root"/>'s string on every rank (UTF-8); other ranks pass null.</summary>
    public static string BroadcastString(this ICommunicator communicator, string? text, int root = 0) =>
        Encoding.UTF8.GetString(communicator.BroadcastBlock(text is null ? null : Encoding.UTF8.GetBytes(text), root));

    /// <summary>
    /// Checks that every rank holds the same <paramref name="value"/> (a data hash, an option set); when some differ, every
    /// rank throws, naming <paramref name="what"/>, the ranks that differ and both values, with <paramref name="hint"/>.
    /// </summary>
    public static void RequireSameEverywhere(this ICommunicator communicator, string what, string value, string hint)
    {
        if (communicator.Size == 1) return;
        var rootValue = communicator.BroadcastString(communicator.IsRoot() ? value : null);
        var differs = new double[communicator.Size];
        differs[communicator.Rank] = rootValue == value ? 0 : 1;
        communicator.AllreduceSum(differs);
        var ranks = Enumerable.Range(0, communicator.Size).Where(r => differs[r] > 0).ToList();
        if (ranks.Count == 0) return;
        var which = (ranks.Count == 1 ? "rank " : "ranks ") + string.Join(", ", ranks);
        throw new InvalidDataException(rootValue == value
            ? $"{what} differs from rank 0's ({Short(rootValue)}) on {which}; {hint}"
            : $"{what} is {Short(value)} on rank {communicator.Rank} but {Short(rootValue)} on rank 0 (it differs on {which}); {hint}");
    }

    static string Short(string value) => value.Length <= 24 ? value : value[..16] + "…";
}
