using System.Diagnostics;

namespace RewardKit.Inference;

/// <summary>Options of a <see cref="MicroBatcher"/>.</summary>
public sealed record MicroBatcherOptions
{
    /// <summary>
    /// When true (default) requests arriving within <see cref="Window"/> share forward passes; when false every request
    /// gets its own forward pass (the one-request-per-forward baseline).
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>How long the first request of a batch waits for others (default 2 ms).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Sequences gathered into one batch at most (default 64); a batch closes early when it is full.</summary>
    public int MaxBatchSequences { get; init; } = 64;

    /// <summary>Sequences per forward pass inside a batch, after length bucketing (default 32).</summary>
    public int ForwardBatchSize { get; init; } = 32;

    /// <summary>Requests waiting at most (default 1024); beyond it <see cref="QueueFullException"/> is thrown at once.</summary>
    public int QueueCapacity { get; init; } = 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field and the fix.</summary>
    public void Validate()
    {
        if (Window < TimeSpan.Zero) throw new ArgumentException($"Window is {Window}; use 0 or a positive time span.", nameof(Window));
        if (MaxBatchSequences < 1) throw new ArgumentException($"MaxBatchSequences is {MaxBatchSequences}; use at least 1.", nameof(MaxBatchSequences));
        if (ForwardBatchSize < 1) throw new ArgumentException($"ForwardBatchSize is {ForwardBatchSize}; use at least 1.", nameof(ForwardBatchSize));
        if (QueueCapacity < 1) throw new ArgumentException($"QueueCapacity is {QueueCapacity}; use at least 1.", nameof(QueueCapacity));
    }
}

/// <summary>Thrown when the micro-batcher's bounded queue is full; the service answers 429 with Retry-After.</summary>
public sealed class QueueFullException(int capacity)
    : Exception($"the scoring queue is full ({capacity} requests waiting); retry shortly.")
{
    /// <summary>The queue bound that was reached.</summary>
    public int Capacity { get; } = capacity;
}

/// <summary>
/// Dynamic batching: concurrent callers' sequences are gathered for up to <see cref="MicroBatcherOptions.Window"/>
/// (or until <see cref="MicroBatcherOptions.MaxBatchSequences"/>) and scored by one worker in length-bucketed forward
/// passes. The queue is bounded: a full queue throws <see cref="QueueFullException"/> instead of growing.
/// Disposing stops taking work, finishes what is queued, then returns.
/// </summary>
/// <remarks>
/// The worker is a dedicated thread that blocks between batches, not an async loop: a forward pass would otherwise
/// hold a thread-pool thread for its whole length, the pool would add threads to make up for it, and on a small
/// machine those threads' spin-waiting takes CPU from the forward pass and from the requests' own work.
/// </remarks>
public sealed class MicroBatcher : ITokenBatchScorer, IAsyncDisposable, IDisposable
{
    sealed class Work(IReadOnlyList<int[]> sequences, CancellationToken cancellationToken)
    {
        public IReadOnlyList<int[]> Sequences { get; } = sequences;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource<float[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    readonly IRewardModel _model;
    readonly object _gate = new();
    readonly Queue<Work> _queue = new();
    readonly Thread _worker;
    readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    bool _closed, _workerWaiting; // guarded by _gate
    int _waiting;
    long _batches, _sequences, _rejected, _forwardCpuTicks;

    /// <summary>Starts the worker for <paramref name="model"/> (not owned).</summary>
    public MicroBatcher(IRewardModel model, MicroBatcherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Options = options ?? new MicroBatcherOptions();
        Options.Validate();
        _model = model;
        _worker = new Thread(Run) { IsBackground = true, Name = "RewardKit micro-batcher" };
        _worker.Start();
    }

    /// <summary>The options in force.</summary>
    public MicroBatcherOptions Options { get; }

    /// <summary>Requests waiting for a forward pass now.</summary>
    public int QueueDepth => Volatile.Read(ref _waiting);

    /// <summary>Batches scored so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Sequences scored so far.</summary>
    public long Sequences => Interlocked.Read(ref _sequences);

    /// <summary>Requests refused because the queue was full.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>
    /// CPU time the worker spent in forward passes so far (its thread's CPU clock, so time spent waiting for a core on a
    /// busy machine is not counted); zero where <see cref="Diagnostics.ThreadCpuTime.IsSupported"/> is false.
    /// </summary>
    public TimeSpan ForwardCpuTime => TimeSpan.FromTicks(Interlocked.Read(ref _forwardCpuTicks));

    /// <summary>Raised on the worker after each batch with its sequence count and forward time.</summary>
    public event Action<int, TimeSpan>? BatchCompleted;

    /// <inheritdoc/>
    public ValueTask<float[]> ScoreAsync(IReadOnlyList<int[]> sequences, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) return ValueTask.FromResult(Array.Empty<float>());
        cancellationToken.ThrowIfCancellationRequested();
        var work = new Work(sequences, cancellationToken);
        lock (_gate)
        {
            if (_closed || _queue.Count >= Options.QueueCapacity)
            {
                Interlocked.Increment(ref _rejected);
                if (_closed) throw new ObjectDisposedException(nameof(MicroBatcher), "the model is being unloaded; retry.");
                throw new QueueFullException(Options.QueueCapacity);
            }
            _queue.Enqueue(work);
            Volatile.Write(ref _waiting, _queue.Count);
            if (_workerWaiting) Monitor.Pulse(_gate);
        }
        return new ValueTask<float[]>(WaitAsync(work));
    }

    static async Task<float[]> WaitAsync(Work work)
    {
        // The caller stops waiting on cancellation; the worker skips the work if it has not started it.
        if (!work.CancellationToken.CanBeCanceled) return await work.Result.Task.ConfigureAwait(false);
        return await work.Result.Task.WaitAsync(work.CancellationToken).ConfigureAwait(false);
    }

    void Run()
    {
        var batch = new List<Work>();
        var count = 0;
        try
        {
            while (true)
            {
                batch.Clear();
                count = 0;
                lock (_gate)
                {
                    while (_queue.Count == 0)
                    {
                        if (_closed) return;
                        Wait(Timeout.InfiniteTimeSpan);
                    }
                    Take(_queue.Dequeue());
                    if (Options.Enabled)
                    {
                        var deadline = Stopwatch.GetTimestamp() + (long)(Options.Window.TotalSeconds * Stopwatch.Frequency);
                        while (count < Options.MaxBatchSequences)
                        {
                            if (_queue.Count > 0) { Take(_queue.Dequeue()); continue; }
                            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                            if (_closed || remaining <= TimeSpan.Zero) break;
                            Wait(remaining);
                        }
                    }
                    Volatile.Write(ref _waiting, _queue.Count);
                }
                Execute(batch, count);
            }
        }
        finally { _stopped.TrySetResult(); }

        void Wait(TimeSpan timeout)
        {
            _workerWaiting = true;
            Monitor.Wait(_gate, timeout);
            _workerWaiting = false;
        }

        void Take(Work w)
        {
            if (w.CancellationToken.IsCancellationRequested) { w.Result.TrySetCanceled(w.CancellationToken); return; }
            batch.Add(w);
            count += w.Sequences.Count;
        }
    }

    void Execute(List<Work> batch, int count)
    {
        if (batch.Count == 0) return;
        var sequences = new List<int[]>(count);
        foreach (var w in batch) sequences.AddRange(w.Sequences);
        var rewards = new float[count];
        var started = Stopwatch.GetTimestamp();
        var cpuStarted = Diagnostics.ThreadCpuTime.Now();
        try
        {
            LengthSortedScoring.Score(_model, sequences, rewards, Options.ForwardBatchSize);
        }
        catch (Exception e)
        {
            foreach (var w in batch) w.Result.TrySetException(e);
            return;
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        Interlocked.Add(ref _forwardCpuTicks, (Diagnostics.ThreadCpuTime.Now() - cpuStarted).Ticks);
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _sequences, count);
        var offset = 0;
        foreach (var w in batch)
        {
            w.Result.TrySetResult(rewards.AsSpan(offset, w.Sequences.Count).ToArray());
            offset += w.Sequences.Count;
        }
        try { BatchCompleted?.Invoke(count, elapsed); }
        catch (Exception) { /* a metrics handler must never stop the worker */ }
    }

    /// <summary>Stops taking work and waits until every queued request has been scored.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
        await _stopped.Task.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
