namespace RewardKit.Distributed;

/// <summary>The job of one process: rank 0 of 1; every collective leaves its data as it is.</summary>
public sealed class SingleProcessCommunicator : ICommunicator
{
    /// <summary>The one instance (it has no state).</summary>
    public static SingleProcessCommunicator Instance { get; } = new();

    SingleProcessCommunicator() { }

    /// <inheritdoc/>
    public int Rank => 0;

    /// <inheritdoc/>
    public int Size => 1;

    /// <inheritdoc/>
    public void AllreduceSum(Span<float> values) { }

    /// <inheritdoc/>
    public void AllreduceSum(Span<double> values) { }

    /// <inheritdoc/>
    public void Broadcast(Span<float> values, int root = 0) => CheckRoot(root);

    /// <inheritdoc/>
    public void Broadcast(Span<byte> values, int root = 0) => CheckRoot(root);

    /// <inheritdoc/>
    public byte[][] Gather(ReadOnlySpan<byte> block, int root = 0)
    {
        CheckRoot(root);
        return [block.ToArray()];
    }

    /// <inheritdoc/>
    public void Barrier() { }

    /// <inheritdoc/>
    public void AbortJob(int exitCode) { }

    /// <summary>Nothing to release.</summary>
    public void Dispose() { }

    static void CheckRoot(int root)
    {
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), root, "a single-process job has only rank 0.");
    }
}
