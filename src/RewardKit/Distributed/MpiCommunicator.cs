using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RewardKit.Distributed;

/// <summary>
/// <see cref="ICommunicator"/> over Open MPI's MPI_COMM_WORLD (see <see cref="MpiLibrary"/> for why it calls libmpi
/// directly). Every collective is started non-blocking and polled, so that a rank which stops taking part is noticed and
/// named. Beside each collective every rank posts a 4-byte arrival notice to rank 0 and rank 0 one to every rank (tag
/// <see cref="ArrivalTag"/>, payload the collective's sequence number, which also catches ranks that call different
/// collectives). While a rank waits longer than <see cref="HeartbeatInterval"/> it sends heartbeats (tag
/// <see cref="HeartbeatTag"/>) to rank 0, and rank 0 to every rank, so a rank frozen inside a collective (a stopped
/// process, a dead machine) is told apart from a slow network. When a collective has not completed after
/// <see cref="Timeout"/>, the call throws <see cref="CollectiveTimeoutException"/> naming the ranks that did not arrive
/// or went silent; the caller then calls <see cref="AbortJob"/>. A rank that exits or crashes is noticed by <c>mpirun</c>
/// itself, which ends the job. Calls must not overlap (MPI_THREAD_SERIALIZED).
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    /// <summary>The point-to-point tag of arrival notices.</summary>
    public const int ArrivalTag = 7_301;

    /// <summary>The point-to-point tag of heartbeats.</summary>
    public const int HeartbeatTag = 7_302;

    readonly MpiLibrary _mpi;
    readonly Buffers _b;
    readonly long[] _lastHeard;   // Stopwatch timestamp of the last notice or heartbeat from each rank
    int _sequence;
    bool _failed, _finalized;

    /// <summary>
    /// Native memory that pending non-blocking calls read or write (it must not move). Arrival: rank 0 receives a notice
    /// from each rank (Notices[r]) and sends Outgoing to each; another rank receives Notices[0] from rank 0 and sends to it.
    /// Heartbeats use the same layout with their own buffers; the heartbeat receives stay posted for the whole job.
    /// </summary>
    sealed class Buffers(int size)
    {
        public readonly int* Notices = Alloc<int>(size), Outgoing = Alloc<int>(1), Beats = Alloc<int>(size), BeatOut = Alloc<int>(1);
        public readonly nint* Requests = Alloc<nint>(2 * size), BeatReceives = Alloc<nint>(size), BeatSends = Alloc<nint>(size);

        static T* Alloc<T>(int count) where T : unmanaged => (T*)NativeMemory.AllocZeroed((nuint)count, (nuint)sizeof(T));

        public void Free()
        {
            foreach (var p in new void*[] { Notices, Outgoing, Beats, BeatOut, Requests, BeatReceives, BeatSends }) NativeMemory.Free(p);
        }
    }

    MpiCommunicator(MpiLibrary mpi, TimeSpan timeout)
    {
        _mpi = mpi;
        Timeout = timeout;
        HeartbeatInterval = TimeSpan.FromSeconds(Math.Clamp(timeout.TotalSeconds / 5, 0.2, 30));
        int provided = 0, rank = 0, size = 0;
        MpiLibrary.Check(mpi.InitThread(null, null, MpiLibrary.ThreadSerialized, &provided), "MPI_Init_thread");
        if (provided < MpiLibrary.ThreadSerialized)
            throw new NotSupportedException($"the MPI library provides thread level {provided}, RewardKit needs MPI_THREAD_SERIALIZED ({MpiLibrary.ThreadSerialized}).");
        MpiLibrary.Check(mpi.CommRank(mpi.World, &rank), "MPI_Comm_rank");
        MpiLibrary.Check(mpi.CommSize(mpi.World, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
        LibraryVersion = mpi.Version();
        _b = new Buffers(size);
        _lastHeard = new long[size];
        Array.Fill(_lastHeard, Stopwatch.GetTimestamp());
        foreach (int peer in Peers) PostHeartbeatReceive(peer);
    }

    /// <summary>
    /// Initialises MPI (MPI_Init_thread, MPI_THREAD_SERIALIZED) and returns MPI_COMM_WORLD. Call once per process, and only
    /// in a process started by <c>mpirun</c>; <see cref="DistributedLaunch.FromEnvironment"/> does both checks.
    /// </summary>
    /// <param name="timeout">How long a collective may wait for the slowest rank before the job is ended.</param>
    public static MpiCommunicator Initialize(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "use a timeout > 0.");
        // Open MPI reads its parameters from the environment at MPI_Init. Its non-blocking Allreduce (libnbc) otherwise
        // picks an algorithm that took 26 ms for 5.8 MB on 2 ranks where the ring takes 1.3 ms (best of 15, shared memory,
        // bench/results/2026-12-07-mpi.md); the ring is also the bandwidth-optimal algorithm the README's cost model assumes.
        // A value the user exported wins.
        MpiLibrary.SetDefaultParameter("coll_libnbc_iallreduce_algorithm", "1");
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

    /// <summary>How often a rank waiting in a collective tells its peers it is alive: a fifth of <see cref="Timeout"/>, within [0.2 s, 30 s].</summary>
    public TimeSpan HeartbeatInterval { get; }

    /// <summary>The ranks this rank exchanges notices and heartbeats with: every other rank on rank 0, rank 0 elsewhere.</summary>
    IEnumerable<int> Peers => Size == 1 ? [] : Rank == 0 ? Enumerable.Range(1, Size - 1) : [0];

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
            displacements[r] = (int)Math.Min(total, int.MaxValue);
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

    /// <summary>
    /// Cancels the standing heartbeat receives and calls MPI_Finalize, after a job that did not fail (after a failure the
    /// caller has called <see cref="AbortJob"/>, and finalising would wait for the missing rank).
    /// </summary>
    public void Dispose()
    {
        if (_finalized) return;
        _finalized = true;
        if (!_failed)
        {
            foreach (int peer in Peers)
            {
                MpiLibrary.Check(_mpi.Cancel(_b.BeatReceives + peer), "MPI_Cancel");
                MpiLibrary.Check(_mpi.Wait(_b.BeatReceives + peer, null), "MPI_Wait");
                nint* send = _b.BeatSends + peer;
                int flag = 1;
                if (*send != 0) MpiLibrary.Check(_mpi.Test(send, &flag, null), "MPI_Test");
                if (flag == 0) MpiLibrary.Check(_mpi.RequestFree(send), "MPI_Request_free");   // still in flight: let it go
            }
            MpiLibrary.Check(_mpi.Finalize(), "MPI_Finalize");
        }
        _b.Free();
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

    /// <summary>Posts this collective's arrival notices (receive from, send to each peer) and returns its sequence number.</summary>
    int BeginCollective()
    {
        ObjectDisposedException.ThrowIf(_finalized, this);
        if (_failed) throw new InvalidOperationException("a collective of this job already failed; end the job (AbortJob).");
        int seq = ++_sequence;
        *_b.Outgoing = seq;
        foreach (int peer in Peers)
        {
            MpiLibrary.Check(_mpi.Irecv(_b.Notices + peer, 1, _mpi.Int, peer, ArrivalTag, _mpi.World, _b.Requests + 2 * peer), "MPI_Irecv");
            MpiLibrary.Check(_mpi.Isend(_b.Outgoing, 1, _mpi.Int, peer, ArrivalTag, _mpi.World, _b.Requests + 2 * peer + 1), "MPI_Isend");
        }
        return seq;
    }

    /// <summary>Polls the collective and its arrival notices until all complete, sending heartbeats while it waits, or throws after <see cref="Timeout"/>.</summary>
    void EndCollective(int seq, nint request, string what)
    {
        long start = Stopwatch.GetTimestamp();
        var arrived = new bool[Size];
        arrived[Rank] = true;
        int beatsSent = 0;
        bool collectiveDone = false;
        for (long polls = 0; ; polls++)
        {
            int flag = 0;
            if (!collectiveDone) { MpiLibrary.Check(_mpi.Test(&request, &flag, null), "MPI_Test"); collectiveDone = flag != 0; }
            bool noticesDone = PollNotices(arrived);
            if (collectiveDone && noticesDone) break;
            if ((polls & 255) != 0) continue;
            var waited = Stopwatch.GetElapsedTime(start);
            if (waited > HeartbeatInterval * (beatsSent + 1)) { SendHeartbeats(seq); beatsSent++; }
            PollHeartbeats();
            if (waited > Timeout) throw TimedOut(seq, what, arrived);
            if (polls > 2_000) Thread.Yield();   // a slow peer: give the core away between polls (progress happens inside MPI_Test)
        }
        foreach (int peer in Peers)
        {
            if (_b.Notices[peer] == seq) continue;
            _failed = true;
            throw new CollectiveTimeoutException(
                $"rank {peer} called collective #{_b.Notices[peer]} while rank {Rank} called #{seq} ({what}): the ranks took different paths through the program (a bug in RewardKit: please report it).");
        }
    }

    /// <summary>Tests the pending arrival requests; records when each peer's notice came in. True when all are complete.</summary>
    bool PollNotices(bool[] arrived)
    {
        bool all = true;
        foreach (int peer in Peers)
        {
            for (int k = 0; k < 2; k++)
            {
                nint* r = _b.Requests + 2 * peer + k;
                if (*r == 0) continue;   // Open MPI's MPI_REQUEST_NULL is &ompi_request_null, never 0: 0 marks "done here"
                int flag = 0;
                MpiLibrary.Check(_mpi.Test(r, &flag, null), "MPI_Test");
                if (flag == 0) { all = false; continue; }
                *r = 0;
                if (k == 0) { arrived[peer] = true; _lastHeard[peer] = Stopwatch.GetTimestamp(); }
            }
        }
        return all;
    }

    void PostHeartbeatReceive(int peer) =>
        MpiLibrary.Check(_mpi.Irecv(_b.Beats + peer, 1, _mpi.Int, peer, HeartbeatTag, _mpi.World, _b.BeatReceives + peer), "MPI_Irecv");

    /// <summary>Records every heartbeat that came in and posts the next receive.</summary>
    void PollHeartbeats()
    {
        foreach (int peer in Peers)
        {
            int flag = 1;
            while (flag != 0)
            {
                MpiLibrary.Check(_mpi.Test(_b.BeatReceives + peer, &flag, null), "MPI_Test");
                if (flag == 0) break;
                _lastHeard[peer] = Stopwatch.GetTimestamp();
                PostHeartbeatReceive(peer);
            }
        }
    }

    /// <summary>Tells every peer this rank is alive (skipping a peer whose previous heartbeat is still in flight).</summary>
    void SendHeartbeats(int seq)
    {
        *_b.BeatOut = seq;
        foreach (int peer in Peers)
        {
            nint* r = _b.BeatSends + peer;
            if (*r != 0)
            {
                int flag = 0;
                MpiLibrary.Check(_mpi.Test(r, &flag, null), "MPI_Test");
                if (flag == 0) continue;
            }
            MpiLibrary.Check(_mpi.Isend(_b.BeatOut, 1, _mpi.Int, peer, HeartbeatTag, _mpi.World, r), "MPI_Isend");
        }
    }

    CollectiveTimeoutException TimedOut(int seq, string what, bool[] arrived)
    {
        _failed = true;
        long now = Stopwatch.GetTimestamp();
        var silentFor = TimeSpan.FromSeconds(2.5 * HeartbeatInterval.TotalSeconds);
        var missing = Peers.Where(r => !arrived[r]).ToList();
        var silent = Peers.Where(r => arrived[r] && Stopwatch.GetElapsedTime(_lastHeard[r], now) > silentFor).ToList();
        string limit = $"within {Timeout.TotalSeconds:0.#} s (set {DistributedLaunch.TimeoutVariable} to allow more)";
        static string Ranks(List<int> ranks) => (ranks.Count == 1 ? "rank " : "ranks ") + string.Join(", ", ranks);
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"{Ranks(missing)} did not reach collective #{seq} ({what}) {limit}: it hangs or died");
        if (silent.Count > 0) parts.Add($"{Ranks(silent)} reached collective #{seq} ({what}) but sent no heartbeat for {silentFor.TotalSeconds:0.#} s: it stopped (a frozen process or machine)");
        if (parts.Count == 0)
            parts.Add(Rank == 0
                ? $"every rank reached collective #{seq} ({what}) and is alive, but it did not complete {limit} (a stalled network?)"
                : $"rank 0 reached collective #{seq} ({what}) and is alive, but it did not complete {limit}: another rank hangs (rank 0 names it)");
        return new CollectiveTimeoutException(string.Join("; ", parts) + ". Ending the job.");
    }
}
