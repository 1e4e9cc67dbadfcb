using System.Diagnostics;

namespace RewardKit.Distributed;

/// <summary>
/// <see cref="ICommunicator"/> over Open MPI's MPI_COMM_WORLD (see <see cref="MpiLibrary"/> for why it calls libmpi
/// directly). Every collective is started non-blocking and polled, so that a rank which does not arrive is noticed: beside
/// each collective, every rank posts a 4-byte arrival notice to rank 0 and rank 0 one to every rank (tag
/// <see cref="ArrivalTag"/>, payload the collective's sequence number). When a collective has not completed after
/// <see cref="Timeout"/>, rank 0 names the ranks whose notice is missing, the others say whether rank 0 arrived, and the
/// call throws <see cref="CollectiveTimeoutException"/>; the caller then calls <see cref="AbortJob"/>. A rank that exits
/// or crashes is already noticed by <c>mpirun</c>, which ends the job. The notices also catch ranks that call different
/// collectives (a sequence-number mismatch). Calls must not overlap (MPI_THREAD_SERIALIZED).
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    /// <summary>The point-to-point tag of arrival notices (nothing else in RewardKit sends point-to-point messages).</summary>
    public const int ArrivalTag = 7_301;

    readonly MpiLibrary _mpi;
    readonly int* _notices;     // rank 0: the notice received from each rank; others: [0] from rank 0
    readonly int* _outgoing;    // this rank's notice (the sequence number)
    readonly nint* _requests;   // arrival sends and receives of the current collective
    int _sequence;
    bool _failed, _finalized;

    MpiCommunicator(MpiLibrary mpi, TimeSpan timeout)
    {
        _mpi = mpi;
        Timeout = timeout;
        int provided = 0, rank = 0, size = 0;
        MpiLibrary.Check(mpi.InitThread(null, null, MpiLibrary.ThreadSerialized, &provided), "MPI_Init_thread");
        if (provided < MpiLibrary.ThreadSerialized)
            throw new NotSupportedException($"the MPI library provides thread level {provided}, RewardKit needs MPI_THREAD_SERIALIZED ({MpiLibrary.ThreadSerialized}).");
        MpiLibrary.Check(mpi.CommRank(mpi.World, &rank), "MPI_Comm_rank");
        MpiLibrary.Check(mpi.CommSize(mpi.World, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
        LibraryVersion = mpi.Version();
        _notices = (int*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)size, sizeof(int));
        _outgoing = (int*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1, sizeof(int));
        _requests = (nint*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)(2 * size), (nuint)sizeof(nint));
    }

    /// <summary>
    /// Initialises MPI (MPI_Init_thread, MPI_THREAD_SERIALIZED) and returns MPI_COMM_WORLD. Call once per process, and only
    /// in a process started by <c>mpirun</c>; <see cref="DistributedLaunch.FromEnvironment"/> does both checks.
    /// </summary>
    /// <param name="timeout">How long a collective may wait for the slowest rank before the job is ended.</param>
    public static MpiCommunicator Initialize(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "use a timeout > 0.");
        var mpi = MpiLibrary.Load();
        int initialized = 0;
        MpiLibrary.Check(mpi.Initialized(&initialized), "MPI_Initialized");
        if (initialized != 0) throw new InvalidOperationException("MPI is already initialised in this process; create one MpiCommunicator per process.");
        return new MpiCommunicator(mpi, timeout);
    }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <summary>How long a collective may wait for the slowest rank.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The MPI library's version line (for logs).</summary>
    public string LibraryVersion { get; }

    /// <summary>Collectives called so far (the number the timeout message quotes).</summary>
    public int Collectives => _sequence;

    /// <inheritdoc/>
    public void AllreduceSum(Span<float> values)
    {
        fixed (float* p = values)
        {
            int seq = BeginCollective();
            nint request;
            MpiLibrary.Check(_mpi.Iallreduce(MpiLibrary.InPlace, p, values.Length, _mpi.Float, _mpi.Sum, _mpi.World, &request), "MPI_Iallreduce");
            EndCollective(seq, request, $"Allreduce of {values.Length:N0} floats");
        }
    }

    /// <inheritdoc/>
    public void AllreduceSum(Span<double> values)
    {
        fixed (double* p = values)
        {
            int seq = BeginCollective();
            nint request;
            MpiLibrary.Check(_mpi.Iallreduce(MpiLibrary.InPlace, p, values.Length, _mpi.Double, _mpi.Sum, _mpi.World, &request), "MPI_Iallreduce");
            EndCollective(seq, request, $"Allreduce of {values.Length:N0} doubles");
        }
    }

    /// <inheritdoc/>
    public void Broadcast(Span<float> values, int root = 0)
    {
        CheckRoot(root);
        fixed (float* p = values) Bcast(p, values.Length, _mpi.Float, root, $"Broadcast of {values.Length:N0} floats from rank {root}");
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> values, int root = 0)
    {
        CheckRoot(root);
        fixed (byte* p = values) Bcast(p, values.Length, _mpi.Byte, root, $"Broadcast of {values.Length:N0} bytes from rank {root}");
    }

    /// <inheritdoc/>
    public byte[][] Gather(ReadOnlySpan<byte> block, int root = 0)
    {
        CheckRoot(root);
        var lengths = new int[Size];
        int length = block.Length;
        fixed (int* all = lengths)
        {
            int seq = BeginCollective();
            nint request;
            MpiLibrary.Check(_mpi.Igather(&length, 1, _mpi.Int, all, 1, _mpi.Int, root, _mpi.World, &request), "MPI_Igather");
            EndCollective(seq, request, $"Gather of block lengths at rank {root}");
        }
        var displacements = new int[Size];
        long total = 0;
        for (int r = 0; r < Size; r++)
        {
            displacements[r] = (int)total;
            total += lengths[r];
        }
        if (Rank == root && total > int.MaxValue)
            throw new InvalidOperationException($"Gather: {total:N0} bytes exceed MPI's 2 GiB per call; gather smaller blocks.");
        var joined = new byte[Rank == root ? total : 0];
        fixed (byte* send = block)
        fixed (byte* receive = joined)
        fixed (int* counts = lengths)
        fixed (int* offsets = displacements)
        {
            int seq = BeginCollective();
            nint request;
            MpiLibrary.Check(_mpi.Igatherv(send, block.Length, _mpi.Byte, receive, counts, offsets, _mpi.Byte, root, _mpi.World, &request), "MPI_Igatherv");
            EndCollective(seq, request, $"Gather of {block.Length:N0} bytes at rank {root}");
        }
        if (Rank != root) return [];
        return [.. Enumerable.Range(0, Size).Select(r => joined.AsSpan(displacements[r], lengths[r]).ToArray())];
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        int seq = BeginCollective();
        nint request;
        MpiLibrary.Check(_mpi.Ibarrier(_mpi.World, &request), "MPI_Ibarrier");
        EndCollective(seq, request, "Barrier");
    }

    /// <inheritdoc/>
    public void AbortJob(int exitCode)
    {
        _failed = true;
        _mpi.Abort(_mpi.World, exitCode);
        Environment.Exit(exitCode);   // MPI_Abort does not return; this is only reached if the library returns anyway
    }

    /// <summary>MPI_Finalize after a job that did not fail (after a failure the caller has called <see cref="AbortJob"/>).</summary>
    public void Dispose()
    {
        if (_finalized) return;
        _finalized = true;
        if (!_failed) MpiLibrary.Check(_mpi.Finalize(), "MPI_Finalize");
        System.Runtime.InteropServices.NativeMemory.Free(_notices);
        System.Runtime.InteropServices.NativeMemory.Free(_outgoing);
        System.Runtime.InteropServices.NativeMemory.Free(_requests);
    }

    void Bcast(void* buffer, int count, nint type, int root, string what)
    {
        int seq = BeginCollective();
        nint request;
        MpiLibrary.Check(_mpi.Ibcast(buffer, count, type, root, _mpi.World, &request), "MPI_Ibcast");
        EndCollective(seq, request, what);
    }

    void CheckRoot(int root)
    {
        if ((uint)root >= (uint)Size) throw new ArgumentOutOfRangeException(nameof(root), root, $"the job has ranks 0 to {Size - 1}.");
    }

    int ArrivalRequests => Rank == 0 ? 2 * (Size - 1) : 2;

    /// <summary>Posts this collective's arrival notices and returns its sequence number.</summary>
    int BeginCollective()
    {
        ObjectDisposedException.ThrowIf(_finalized, this);
        if (_failed) throw new InvalidOperationException("a collective of this job already failed; end the job (AbortJob).");
        int seq = ++_sequence;
        *_outgoing = seq;
        if (Size == 1) return seq;
        int k = 0;
        if (Rank == 0)
        {
            for (int r = 1; r < Size; r++)
            {
                MpiLibrary.Check(_mpi.Irecv(_notices + r, 1, _mpi.Int, r, ArrivalTag, _mpi.World, _requests + k++), "MPI_Irecv");
                MpiLibrary.Check(_mpi.Isend(_outgoing, 1, _mpi.Int, r, ArrivalTag, _mpi.World, _requests + k++), "MPI_Isend");
            }
        }
        else
        {
            MpiLibrary.Check(_mpi.Irecv(_notices, 1, _mpi.Int, 0, ArrivalTag, _mpi.World, _requests + k++), "MPI_Irecv");
            MpiLibrary.Check(_mpi.Isend(_outgoing, 1, _mpi.Int, 0, ArrivalTag, _mpi.World, _requests + k++), "MPI_Isend");
        }
        return seq;
    }

    /// <summary>Polls the collective and its arrival notices until all complete, or throws after <see cref="Timeout"/>.</summary>
    void EndCollective(int seq, nint request, string what)
    {
        int notices = Size == 1 ? 0 : ArrivalRequests;
        long start = Stopwatch.GetTimestamp();
        bool collectiveDone = false, noticesDone = notices == 0;
        for (long polls = 0; ; polls++)
        {
            int flag = 0;
            if (!collectiveDone) { MpiLibrary.Check(_mpi.Test(&request, &flag, null), "MPI_Test"); collectiveDone = flag != 0; }
            if (!noticesDone) { MpiLibrary.Check(_mpi.Testall(notices, _requests, &flag, null), "MPI_Testall"); noticesDone = flag != 0; }
            if (collectiveDone && noticesDone) break;
            if ((polls & 255) == 0 && Stopwatch.GetElapsedTime(start) > Timeout) throw TimedOut(seq, what);
            if (polls > 2_000) Thread.Yield();   // a slow peer: give the core away between polls (progress happens inside MPI_Test)
        }
        if (Size > 1) CheckSequences(seq, what);
    }

    void CheckSequences(int seq, string what)
    {
        for (int r = Rank == 0 ? 1 : 0; r < (Rank == 0 ? Size : 1); r++)
        {
            if (_notices[r] == seq) continue;
            int other = Rank == 0 ? r : 0;
            _failed = true;
            throw new CollectiveTimeoutException(
                $"rank {Rank}: rank {other} called collective #{_notices[r]} while this rank called #{seq} ({what}): the ranks took different paths through the program (a bug in RewardKit: please report it).");
        }
    }

    CollectiveTimeoutException TimedOut(int seq, string what)
    {
        _failed = true;
        var missing = new List<int>();
        if (Rank == 0)
        {
            for (int r = 1; r < Size; r++)
            {
                int flag = 0;
                MpiLibrary.Check(_mpi.Test(_requests + 2 * (r - 1), &flag, null), "MPI_Test");   // the receive from rank r
                if (flag == 0) missing.Add(r);
            }
        }
        else
        {
            int flag = 0;
            MpiLibrary.Check(_mpi.Test(_requests, &flag, null), "MPI_Test");
            if (flag == 0) missing.Add(0);
        }
        string limit = $"within {Timeout.TotalSeconds:0.#} s (set {DistributedLaunch.TimeoutVariable} to allow more)";
        string message = missing.Count > 0
            ? $"rank {Rank}: rank {string.Join(", rank ", missing)} did not reach collective #{seq} ({what}) {limit}; it hangs or died. Ending the job."
            : Rank == 0
                ? $"rank 0: every rank reached collective #{seq} ({what}) but it did not complete {limit} (a stalled network?). Ending the job."
                : $"rank {Rank}: rank 0 reached collective #{seq} ({what}) but it did not complete {limit}; another rank hangs (rank 0 names it). Ending the job.";
        return new CollectiveTimeoutException(message);
    }
}
