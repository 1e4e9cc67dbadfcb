namespace RewardKit.Tensors.Kernels;

/// <summary>
/// A fixed set of worker threads that kernels split their work across. Pass one to every kernel of a run;
/// a pool with one thread runs everything on the caller. Results are identical run to run for a fixed thread count.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    /// <summary>Creates a pool of <paramref name="threads"/> workers (default: all cores).</summary>
    public WorkerPool(int threads = 0)
    {
        Threads = threads <= 0 ? Environment.ProcessorCount : threads;
    }

    /// <summary>A pool of one thread: everything runs on the caller. Stateless, so it is shared.</summary>
    public static WorkerPool Single { get; } = new(1);

    /// <summary>How many threads work in parallel, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/> for every index in [0, count), split across the threads.</summary>
    public void For(int count, Action<int> body)
    {
        if (Threads == 1 || count <= 1) { for (int i = 0; i < count; i++) body(i); return; }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Threads }, body);
    }

    /// <inheritdoc />
    public void Dispose() { }
}
