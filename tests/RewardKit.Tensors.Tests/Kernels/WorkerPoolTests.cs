using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Kernels;

public class WorkerPoolTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void For_runs_every_index_exactly_once(int threads)
    {
        using var pool = new WorkerPool(threads);
        foreach (int count in new[] { 0, 1, 2, 3, 7, 64, 1001 })
        {
            var hits = new int[count];
            pool.For(count, i => Interlocked.Increment(ref hits[i]));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    struct Record : IWorkItem
    {
        public int[] Owner;
        public WorkerPool Pool;
        public void Execute(int index) => Owner[index] = Environment.CurrentManagedThreadId;
    }

    [Fact]
    public void Each_index_goes_to_the_same_participant_in_contiguous_ranges_every_call()
    {
        using var pool = new WorkerPool(3);
        int[]? first = null;
        for (int call = 0; call < 20; call++)
        {
            var body = new Record { Owner = new int[100], Pool = pool };
            pool.For(100, ref body);
            first ??= body.Owner;
            Assert.Equal(first, body.Owner);
        }
        Assert.NotNull(first);
        // Participant t owns [t*100/3, (t+1)*100/3): 0..32 on the caller, then two worker ranges.
        Assert.All(first.AsSpan(0, 33).ToArray(), id => Assert.Equal(Environment.CurrentManagedThreadId, id));
        Assert.Equal(3, first.Distinct().Count());
        Assert.Equal(first[33], first[65]);
        Assert.NotEqual(first[65], first[66]);
    }

    struct Sum : IWorkItem
    {
        public long[] Parts;
        public void Execute(int index) => Parts[index] += index;
    }

    [Fact]
    public void The_struct_overload_allocates_nothing_per_call()
    {
        using var pool = new WorkerPool(2);
        var body = new Sum { Parts = new long[8] };
        for (int i = 0; i < 10; i++) pool.For(8, ref body);      // warm up: JIT and the per-type runner
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) pool.For(8, ref body);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(1010L * 7, body.Parts[7]);
    }

    [Fact]
    public void An_exception_in_a_worker_reaches_the_caller_with_its_type_and_the_pool_stays_usable()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<InvalidOperationException>(() => pool.For(10, i =>
        {
            if (i == 9) throw new InvalidOperationException("boom at 9");
        }));
        Assert.Equal("boom at 9", e.Message);
        var hits = new int[10];
        pool.For(10, i => hits[i]++);
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void A_nested_call_runs_inline_and_completes()
    {
        using var pool = new WorkerPool(2);
        var hits = new int[4 * 5];
        pool.For(4, i => pool.For(5, j => Interlocked.Increment(ref hits[i * 5 + j])));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void Calls_from_several_threads_are_serialised_and_all_complete()
    {
        using var pool = new WorkerPool(2);
        var totals = new long[4];
        var callers = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (int r = 0; r < 200; r++)
            {
                var part = new long[16];
                pool.For(16, i => part[i] = i);
                Interlocked.Add(ref totals[t], part.Sum());
            }
        })).ToArray();
        foreach (var c in callers) c.Start();
        foreach (var c in callers) c.Join();
        Assert.All(totals, total => Assert.Equal(200L * 120, total));
    }

    [Fact]
    public void Workers_that_block_between_calls_wake_for_the_next_call()
    {
        using var pool = new WorkerPool(2, TimeSpan.Zero);
        for (int r = 0; r < 200; r++)
        {
            var hits = new int[2];
            pool.For(2, i => hits[i]++);
            Assert.Equal(new[] { 1, 1 }, hits);
            if (r % 50 == 0) Thread.Sleep(2);
        }
    }

    [Fact]
    public unsafe void Scratch_is_64_byte_aligned_and_grows_on_request()
    {
        using var pool = new WorkerPool(2);
        void* small = pool.Scratch(1, 100);
        Assert.Equal(0u, (uint)((nuint)small % 64));
        void* large = pool.Scratch(1, 10 << 20);
        Assert.Equal(0u, (uint)((nuint)large % 64));
        ((byte*)large)[(10 << 20) - 1] = 1;
        Assert.Throws<ArgumentOutOfRangeException>(() => { pool.Scratch(2, 1); });
    }

    [Fact]
    public void Dispose_stops_the_pool_and_later_calls_throw()
    {
        var pool = new WorkerPool(3);
        pool.For(3, _ => { });
        pool.Dispose();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.For(3, _ => { }));
    }

    [Fact]
    public void Default_thread_count_is_the_processor_count()
    {
        using var pool = new WorkerPool();
        Assert.Equal(Environment.ProcessorCount, pool.Threads);
    }
}
