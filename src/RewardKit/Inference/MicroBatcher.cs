using System.Diagnostics;
using System.Threading.Channels;

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
public sealed class MicroBatcher : ITokenBatchScorer, IAsyncDisposable, IDisposable
{
    sealed class Work(IReadOnlyList<int[]> sequences, CancellationToken cancellationToken)
    {
        public IReadOnlyList<int[]> Sequences { get; } = sequences;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource<float[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    readonly IRewardModel _model;
    readonly Channel<Work> _queue;
    readonly Task _worker;
    int _waiting;
    long _batches, _sequences, _rejected;

    /// <summary>Starts the worker for <paramref name="model"/> (not owned).</summary>
    public MicroBatcher(IRewardModel model, MicroBatcherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Options = options ?? new MicroBatcherOptions();
        Options.Validate();
        _model = model;
        _queue = Channel.CreateBounded<Work>(new BoundedChannelOptions(Options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _worker = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
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

    /// <summary>Raised on the worker after each batch with its sequence count and forward time.</summary>
    public event Action<int, TimeSpan>? BatchCompleted;

    /// <inheritdoc/>
    public ValueTask<float[]> ScoreAsync(IReadOnlyList<int[]> sequences, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) return ValueTask.FromResult(Array.Empty<float>());
        cancellationToken.ThrowIfCancellationRequested();
        var work = new Work(sequences, cancellationToken);
        Interlocked.Increment(ref _waiting);
        if (!_queue.Writer.TryWrite(work))
        {
            Interlocked.Decrement(ref _waiting);
            Interlocked.Increment(ref _rejected);
            if (_queue.Reader.Completion.IsCompleted || IsClosed)
                throw new ObjectDisposedException(nameof(MicroBatcher), "the model is being unloaded; retry.");
            throw new QueueFullException(Options.QueueCapacity);
        }
        return new ValueTask<float[]>(WaitAsync(work));
    }

    static async Task<float[]> WaitAsync(Work work)
    {
        // The caller stops waiting on cancellation; the worker skips the work if it has not started it.
        if (!work.CancellationToken.CanBeCanceled) return await work.Result.Task.ConfigureAwait(false);
        return await work.Result.Task.WaitAsync(work.CancellationToken).ConfigureAwait(false);
    }

    volatile bool _closed;
    bool IsClosed { get => _closed; set => _closed = value; }

    async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Work>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            var count = 0;
            if (!reader.TryRead(out var first)) continue;
            Take(first);
            if (Options.Enabled)
            {
                var deadline = Stopwatch.GetTimestamp() + (long)(Options.Window.TotalSeconds * Stopwatch.Frequency);
                while (count < Options.MaxBatchSequences)
                {
                    if (reader.TryRead(out var next)) { Take(next); continue; }
                    var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                    if (remaining <= TimeSpan.Zero) break;
                    using var timeout = new CancellationTokenSource(remaining);
                    try
                    {
                        if (!await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false)) break;
                    }
                    catch (OperationCanceledException) { break; }
                }
            }
            Execute(batch, count);

            void Take(Work w)
            {
                Interlocked.Decrement(ref _waiting);
                if (w.CancellationToken.IsCancellationRequested) { w.Result.TrySetCanceled(w.CancellationToken); return; }
                batch.Add(w);
                count += w.Sequences.Count;
            }
        }
    }

    void Execute(List<Work> batch, int count)
    {
        if (batch.Count == 0) return;
        var sequences = new List<int[]>(count);
        foreach (var w in batch) sequences.AddRange(w.Sequences);
        var rewards = new float[count];
        var started = Stopwatch.GetTimestamp();
        try
        {
            LengthBuckets.Score(_model, sequences, rewards, Options.ForwardBatchSize);
        }
        catch (Exception e)
        {
            foreach (var w in batch) w.Result.TrySetException(e);
            return;
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
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
        IsClosed = true;
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
