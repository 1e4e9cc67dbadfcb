using RewardKit.Distributed;

namespace RewardKit.Tests.Distributed;

/// <summary>
/// Rank <c>rank</c> of a pretend job whose other ranks hold exactly what this one holds: an Allreduce multiplies by the
/// size, a broadcast keeps the values, a gather returns this rank's block once per rank. Lets single-process tests drive
/// the code a rank runs.
/// </summary>
internal sealed class MirrorCommunicator(int rank, int size) : ICommunicator
{
    public int Rank => rank;
    public int Size => size;
    public int Collectives { get; private set; }

    public void AllreduceSum(Span<float> values) { Collectives++; foreach (ref var v in values) v *= size; }
    public void AllreduceSum(Span<double> values) { Collectives++; foreach (ref var v in values) v *= size; }
    public void Broadcast(Span<float> values, int root = 0) => Collectives++;
    public void Broadcast(Span<byte> values, int root = 0) => Collectives++;
    public byte[][] Gather(ReadOnlySpan<byte> block, int root = 0)
    {
        Collectives++;
        var copy = block.ToArray();
        return rank == root ? [.. Enumerable.Repeat(copy, size)] : [];
    }
    public void Barrier() => Collectives++;
    public void AbortJob(int exitCode) => throw new InvalidOperationException($"AbortJob({exitCode})");
    public void Dispose() { }
}
