namespace RewardKit.Distributed;

/// <summary>
/// The few collective operations data-parallel training and sharded scoring need, so that nothing else in RewardKit
/// depends on MPI. Every rank of a job calls the same collectives in the same order with the same sizes (as MPI requires);
/// a rank that does not arrive within the communicator's timeout ends the job with a <see cref="CollectiveTimeoutException"/>
/// naming it. <see cref="SingleProcessCommunicator"/> is the one-process job; <see cref="MpiCommunicator"/> runs over
/// Open MPI; <see cref="DistributedLaunch.FromEnvironment"/> picks one from how the process was started.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's rank, 0 ≤ Rank &lt; <see cref="Size"/>; rank 0 is the one that writes files.</summary>
    int Rank { get; }

    /// <summary>The number of processes in the job (the world size).</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="values"/> on every rank with the element-wise sum over ranks.</summary>
    void AllreduceSum(Span<float> values);

    /// <summary>Replaces <paramref name="values"/> on every rank with the element-wise sum over ranks.</summary>
    void AllreduceSum(Span<double> values);

    /// <summary>Copies <paramref name="values"/> of rank <paramref name="root"/> into <paramref name="values"/> of every other rank (same length everywhere).</summary>
    void Broadcast(Span<float> values, int root = 0);

    /// <summary>Copies <paramref name="values"/> of rank <paramref name="root"/> into <paramref name="values"/> of every other rank (same length everywhere).</summary>
    void Broadcast(Span<byte> values, int root = 0);

    /// <summary>
    /// Gathers a byte block of any length from every rank at <paramref name="root"/>: there the result holds
    /// <see cref="Size"/> blocks in rank order; elsewhere it is empty.
    /// </summary>
    byte[][] Gather(ReadOnlySpan<byte> block, int root = 0);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>
    /// Ends every process of the job now with <paramref name="exitCode"/> (MPI_Abort), after this rank failed; a
    /// single-process communicator does nothing (the caller returns the exit code itself).
    /// </summary>
    void AbortJob(int exitCode);
}

/// <summary>A collective did not complete in time: a rank died, hangs, or the ranks called different collectives.</summary>
public sealed class CollectiveTimeoutException(string message) : TimeoutException(message);
