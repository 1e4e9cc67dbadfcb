using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace RewardKit.Tensors.Kernels;

/// <summary>One index of a <see cref="WorkerPool.For{TBody}(int, ref TBody)"/> loop, as a struct so the hot path allocates nothing.</summary>
public interface IWorkItem
{
    /// <summary>Does the work of index <paramref name="index"/>. Called concurrently for distinct indices.</summary>
    void Execute(int index);
}

/// <summary>The share of one participating thread in a <see cref="WorkerPool.Run{TWork}(ref TWork)"/> call.</summary>
public interface IThreadWork
{
    /// <summary>
    /// Does the share of participant <paramref name="thread"/> of <paramref name="threads"/> (0 is the calling thread).
    /// <paramref name="slot"/> identifies the executing OS thread's scratch (see <see cref="WorkerPool.Scratch"/>);
    /// it equals <paramref name="thread"/> except when the call was nested inside another pool call and runs inline.
    /// </summary>
    void Execute(int thread, int threads, int slot);
}

/// <summary>
/// A fixed set of worker threads that kernels split their work across. Pass one to every kernel of a run;
/// a pool with one thread runs everything on the caller. Results are identical run to run for a fixed thread count:
/// work is split statically (participant t always gets the same contiguous range), never stolen.
/// </summary>
/// <remarks>
/// Workers spin for a few tens of microseconds after each call before they block, so a sequence of small kernels
/// dispatches in about a microsecond each. The calling thread does participant 0's share itself. Calls from several
/// threads are serialised; a call made from inside a running body (nested) runs inline on the calling thread.
/// Each executing thread owns a 64-byte-aligned scratch buffer (<see cref="Scratch"/>) that kernels such as
/// <see cref="Gemm"/> reuse for packing, freed by <see cref="Dispose"/>.
/// </remarks>
public sealed unsafe class WorkerPool : IDisposable
{
    readonly Thread[] _workers;
    readonly int[] _workerThreadIds;
    readonly object _dispatchLock = new();
    readonly object _sleepLock = new();
    readonly object _doneLock = new();
    readonly Dictionary<Type, IRunner> _runners = new();
    readonly long _spinTicks;

    // Dispatch state, written by the dispatcher before the generation is bumped.
    IRunner? _job;
    int _jobThreads;
    long _generation;
    int _pending;
    int _sleepers;
    int _callerWaiting;
    volatile bool _disposed;
    int _dispatcherThreadId;
    readonly ExceptionDispatchInfo?[] _errors;

    readonly void*[] _scratch;
    readonly nuint[] _scratchBytes;

    /// <summary>Creates a pool of <paramref name="threads"/> workers (default: all cores).</summary>
    /// <param name="threads">Threads working in parallel, the caller included; 0 or less means <see cref="Environment.ProcessorCount"/>.</param>
    public WorkerPool(int threads = 0) : this(threads, TimeSpan.FromMicroseconds(100)) { }

    /// <summary>Creates a pool of <paramref name="threads"/> workers that spin for <paramref name="spin"/> before blocking.</summary>
    /// <param name="threads">Threads working in parallel, the caller included; 0 or less means <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="spin">How long an idle worker (or the waiting caller) spins before it blocks; zero blocks at once.</param>
    public WorkerPool(int threads, TimeSpan spin)
    {
        if (spin < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(spin), spin, "The spin time must be zero or positive.");
        Threads = threads <= 0 ? Environment.ProcessorCount : threads;
        _spinTicks = (long)(spin.TotalSeconds * Stopwatch.Frequency);
        _errors = new ExceptionDispatchInfo?[Threads];
        _scratch = new void*[Threads];
        _scratchBytes = new nuint[Threads];
        _workers = new Thread[Threads - 1];
        _workerThreadIds = new int[Threads - 1];
        for (int t = 1; t < Threads; t++)
        {
            int index = t;
            var thread = new Thread(() => WorkerLoop(index), maxStackSize: 1 << 20)
            {
                IsBackground = true,
                Name = $"RewardKit worker {t}/{Threads}",
            };
            _workers[t - 1] = thread;
            thread.Start();
            _workerThreadIds[t - 1] = thread.ManagedThreadId;
        }
    }

    /// <summary>
    /// A process-wide pool of one thread: everything runs on the caller. It starts no threads; its only state is the
    /// packing scratch, used under its dispatch lock (concurrent callers are serialised). <see cref="Dispose"/> leaves it intact.
    /// </summary>
    public static WorkerPool Single { get; } = new(1) { _shared = true };

    bool _shared;

    /// <summary>How many threads work in parallel, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/> for every index in [0, count), split across the threads.</summary>
    /// <remarks>Participant t gets the contiguous range [t·count/T, (t+1)·count/T).</remarks>
    public void For(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var item = new DelegateItem(body);
        For(count, ref item);
    }

    /// <summary>
    /// Runs <paramref name="body"/>.<see cref="IWorkItem.Execute"/> for every index in [0, count), split across the
    /// threads like <see cref="For(int, Action{int})"/>, without allocating. All threads share the one struct instance.
    /// </summary>
    public void For<TBody>(int count, ref TBody body) where TBody : struct, IWorkItem
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0) return;
        if (count == 1 || Threads == 1)
        {
            for (int i = 0; i < count; i++) body.Execute(i);
            return;
        }
        var ranges = new RangeWork<TBody> { Body = body, Count = count };
        Run(ref ranges, Math.Min(count, Threads));
        body = ranges.Body;
    }

    /// <summary>Runs <paramref name="work"/> once on each of the <see cref="Threads"/> participants, the caller being participant 0.</summary>
    public void Run<TWork>(ref TWork work) where TWork : struct, IThreadWork => Run(ref work, Threads);

    /// <summary>Runs <paramref name="work"/> once on each of the first <paramref name="threads"/> participants (at most <see cref="Threads"/>).</summary>
    public void Run<TWork>(ref TWork work, int threads) where TWork : struct, IThreadWork
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (threads < 1 || threads > Threads)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"Between 1 and the pool's {Threads} threads.");
        int self = Environment.CurrentManagedThreadId;
        int slot = CurrentWorkerSlot(self);
        bool nested = slot > 0 || Volatile.Read(ref _dispatcherThreadId) == self;
        if (nested || threads == 1)
        {
            // Inline: every share on this thread, in order, using this thread's scratch.
            int s = nested ? slot : 0;
            if (!nested) Monitor.Enter(_dispatchLock);
            try
            {
                for (int t = 0; t < threads; t++) work.Execute(t, threads, s);
            }
            finally { if (!nested) Monitor.Exit(_dispatchLock); }
            return;
        }

        Monitor.Enter(_dispatchLock);
        try
        {
            _dispatcherThreadId = self;
            var runner = RunnerFor<TWork>();
            runner.Work = work;
            _job = runner;
            _jobThreads = threads;
            Volatile.Write(ref _pending, Threads - 1);       // every worker acknowledges, even with no share
            Interlocked.Increment(ref _generation);          // full fence: publishes the job
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_sleepLock) Monitor.PulseAll(_sleepLock);

            try { runner.Work.Execute(0, threads, 0); }
            catch (Exception e) { _errors[0] = ExceptionDispatchInfo.Capture(e); }

            WaitForWorkers();
            work = runner.Work;
            runner.Work = default;
            _job = null;
            ThrowFirstError(threads);
        }
        finally
        {
            _dispatcherThreadId = 0;
            Monitor.Exit(_dispatchLock);
        }
    }

    long _gemmFlops;

    /// <summary>
    /// Floating-point operations of the matrix products run on this pool since it was made: 2·M·N·K per product that
    /// <see cref="Gemm"/> (and <see cref="AttentionKernel"/>'s blocks) computed, at the dimensions they were actually run
    /// with: skipped rows, keys and blocks are not counted, nor the zero padding of partial micro-tiles. Benchmarks read it
    /// before and after timed work to report the FLOPs a step really executed. Products run without a pool are not counted.
    /// </summary>
    public long GemmFlops => Interlocked.Read(ref _gemmFlops);

    /// <summary>Adds <paramref name="flops"/> to <see cref="GemmFlops"/> (thread-safe; kernels call it once per call or per thread share).</summary>
    internal void CountGemmFlops(long flops) => Interlocked.Add(ref _gemmFlops, flops);

    /// <summary>
    /// A 64-byte-aligned scratch buffer of at least <paramref name="bytes"/> bytes owned by executing thread
    /// <paramref name="slot"/> (the <c>slot</c> given to <see cref="IThreadWork.Execute"/>). Valid until the next
    /// larger request for the same slot or <see cref="Dispose"/>; contents are not preserved when it grows.
    /// </summary>
    public void* Scratch(int slot, nuint bytes)
    {
        if ((uint)slot >= (uint)Threads)
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"Between 0 and {Threads - 1}.");
        if (_scratchBytes[slot] < bytes)
        {
            NativeMemory.AlignedFree(_scratch[slot]);
            _scratch[slot] = null;
            _scratchBytes[slot] = 0;
            nuint size = Math.Max(bytes, (nuint)(64 * 1024));
            _scratch[slot] = NativeMemory.AlignedAlloc(size, 64);
            _scratchBytes[slot] = size;
        }
        return _scratch[slot];
    }

    /// <summary>Stops the worker threads and frees the scratch buffers.</summary>
    public void Dispose()
    {
        if (_shared) return;
        lock (_dispatchLock)
        {
            if (_disposed) return;
            _disposed = true;
            Interlocked.Increment(ref _generation);
            lock (_sleepLock) Monitor.PulseAll(_sleepLock);
        }
        foreach (var worker in _workers) worker.Join();
        for (int s = 0; s < Threads; s++)
        {
            NativeMemory.AlignedFree(_scratch[s]);
            _scratch[s] = null;
            _scratchBytes[s] = 0;
        }
    }

    int CurrentWorkerSlot(int managedThreadId)
    {
        for (int i = 0; i < _workerThreadIds.Length; i++)
            if (_workerThreadIds[i] == managedThreadId) return i + 1;
        return 0;
    }

    void WorkerLoop(int index)
    {
        long seen = 0;
        while (true)
        {
            long generation = WaitForGeneration(seen);
            seen = generation;
            if (_disposed) return;
            // The dispatcher cannot publish another job before this worker acknowledges, so these reads are stable.
            int threads = _jobThreads;
            if (index < threads)
            {
                try { _job!.Execute(index, threads, index); }
                catch (Exception e) { _errors[index] = ExceptionDispatchInfo.Capture(e); }
            }
            if (Interlocked.Decrement(ref _pending) == 0 && Volatile.Read(ref _callerWaiting) != 0)
                lock (_doneLock) Monitor.PulseAll(_doneLock);
        }
    }

    long WaitForGeneration(long seen)
    {
        long start = Stopwatch.GetTimestamp();
        int spins = 0;
        while (true)
        {
            long g = Volatile.Read(ref _generation);
            if (g != seen) return g;
            if (++spins % 64 == 0 && Stopwatch.GetTimestamp() - start > _spinTicks) break;
            Thread.SpinWait(8);
        }
        lock (_sleepLock)
        {
            Interlocked.Increment(ref _sleepers);               // full fence before re-reading the generation
            try
            {
                long g;
                while ((g = Volatile.Read(ref _generation)) == seen)
                    Monitor.Wait(_sleepLock);
                return g;
            }
            finally { Interlocked.Decrement(ref _sleepers); }
        }
    }

    void WaitForWorkers()
    {
        long start = Stopwatch.GetTimestamp();
        int spins = 0;
        while (Volatile.Read(ref _pending) != 0)
        {
            if (++spins % 64 == 0 && Stopwatch.GetTimestamp() - start > _spinTicks)
            {
                lock (_doneLock)
                {
                    Interlocked.Exchange(ref _callerWaiting, 1);  // full fence before re-reading pending
                    while (Volatile.Read(ref _pending) != 0)
                        Monitor.Wait(_doneLock);
                    _callerWaiting = 0;
                }
                return;
            }
            Thread.SpinWait(8);
        }
    }

    void ThrowFirstError(int threads)
    {
        for (int t = 0; t < threads; t++)
        {
            var error = _errors[t];
            if (error is null) continue;
            Array.Clear(_errors);
            error.Throw();
        }
    }

    Runner<TWork> RunnerFor<TWork>() where TWork : struct, IThreadWork
    {
        if (_runners.TryGetValue(typeof(TWork), out var existing)) return (Runner<TWork>)existing;
        var runner = new Runner<TWork>();
        _runners.Add(typeof(TWork), runner);
        return runner;
    }

    interface IRunner
    {
        void Execute(int thread, int threads, int slot);
    }

    /// <summary>Holds the one shared copy of a work struct so worker threads can reach it (reused per type: no allocation per call).</summary>
    sealed class Runner<TWork> : IRunner where TWork : struct, IThreadWork
    {
        public TWork Work;
        public void Execute(int thread, int threads, int slot) => Work.Execute(thread, threads, slot);
    }

    struct RangeWork<TBody> : IThreadWork where TBody : struct, IWorkItem
    {
        public TBody Body;
        public int Count;

        public void Execute(int thread, int threads, int slot)
        {
            int start = (int)((long)Count * thread / threads), end = (int)((long)Count * (thread + 1) / threads);
            for (int i = start; i < end; i++) Body.Execute(i);
        }
    }

    readonly struct DelegateItem(Action<int> body) : IWorkItem
    {
        public void Execute(int index) => body(index);
    }
}
