namespace RewardKit.Tensors;

/// <summary>
/// A bump allocator of float memory for one step's activations and their gradients. <see cref="Reset"/> frees
/// everything at once; after the first step the arena holds the blocks a whole step needs, so a training
/// loop allocates nothing on its hot path and its memory stays flat. <see cref="Free"/> hands one allocation back
/// before the reset (a gradient that backward has consumed); the next allocation of the same rounded size reuses it,
/// which suits a transformer, whose layers allocate the same sizes in turn.
/// </summary>
public sealed class Arena
{
    const int MinimumBlock = 1 << 20;
    const int Alignment = 16; // floats: 64 bytes
    readonly List<float[]> _blocks = [];
    readonly Dictionary<int, Stack<(float[] Block, int Offset)>> _free = [];   // by rounded length
    int _block, _used;
    long _highWater, _inUse;

    /// <summary>Floats handed out since the last reset.</summary>
    public long InUse => _inUse;

    /// <summary>The most floats ever in use at once.</summary>
    public long HighWater => _highWater;

    /// <summary>Floats reserved in blocks.</summary>
    public long Reserved { get { long n = 0; foreach (var b in _blocks) n += b.Length; return n; } }

    /// <summary>Hands out <paramref name="length"/> floats (zeroed when <paramref name="clear"/>), 64-byte aligned within the block.</summary>
    public (float[] Block, int Offset) Allocate(int length, bool clear)
    {
        int rounded = Round(length);
        if (_free.TryGetValue(rounded, out var freed) && freed.TryPop(out var reused))
        {
            _inUse += rounded;
            if (_inUse > _highWater) _highWater = _inUse;
            if (clear) reused.Block.AsSpan(reused.Offset, length).Clear();
            return reused;
        }
        while (true)
        {
            if (_block < _blocks.Count && _used + rounded <= _blocks[_block].Length)
            {
                var block = _blocks[_block];
                int offset = _used;
                _used += rounded;
                _inUse += rounded;
                if (_inUse > _highWater) _highWater = _inUse;
                if (clear) block.AsSpan(offset, length).Clear();
                return (block, offset);
            }
            if (_block + 1 < _blocks.Count) { _block++; _used = 0; continue; }
            _blocks.Add(GC.AllocateUninitializedArray<float>(Math.Max(MinimumBlock, rounded), pinned: true));
            _block = _blocks.Count - 1;
            _used = 0;
        }
    }

    static int Round(int length) => (length + Alignment - 1) / Alignment * Alignment;

    /// <summary>
    /// Hands back one allocation of <paramref name="length"/> floats made by <see cref="Allocate"/> since the last reset
    /// (it must not be used after this). A later <see cref="Allocate"/> of the same rounded length reuses it.
    /// </summary>
    public void Free(float[] block, int offset, int length)
    {
        int rounded = Round(length);
        if (!_free.TryGetValue(rounded, out var stack)) _free[rounded] = stack = new Stack<(float[], int)>();
        stack.Push((block, offset));
        _inUse -= rounded;
    }

    void ForgetFreed()
    {
        foreach (var stack in _free.Values) stack.Clear();   // the stacks keep their capacity: no allocation per step
    }

    /// <summary>The arena's current fill, to hand back with <see cref="Release"/>.</summary>
    public ArenaMark Mark() => new(_block, _used, _inUse);

    /// <summary>
    /// Frees everything handed out since <paramref name="mark"/> (stack order): tensors allocated after it must no
    /// longer be used. Lets an inference pass return each layer's temporaries before the next layer runs.
    /// Allocations handed back with <see cref="Free"/> are forgotten (some may lie beyond the mark) until the next reset.
    /// </summary>
    public void Release(ArenaMark mark)
    {
        if (mark.Block > _block || (mark.Block == _block && mark.Used > _used))
            throw new InvalidOperationException($"Arena.Release: the mark (block {mark.Block}, offset {mark.Used}) lies beyond the current fill (block {_block}, offset {_used}); it was taken before a Reset or an earlier Release.");
        ForgetFreed();
        _block = mark.Block;
        _used = mark.Used;
        _inUse = mark.InUse;
    }

    /// <summary>
    /// Frees everything handed out. The blocks are kept: a step that repeats the previous step's allocations reuses
    /// exactly the same memory, so resident memory stays flat (merging blocks into a new one left the old ones resident).
    /// </summary>
    public void Reset()
    {
        ForgetFreed();
        _block = 0;
        _used = 0;
        _inUse = 0;
    }
}

/// <summary>A position in an <see cref="Arena"/> (from <see cref="Arena.Mark"/>).</summary>
/// <param name="Block">Index of the block in use.</param>
/// <param name="Used">Floats used in that block.</param>
/// <param name="InUse">Floats handed out in all.</param>
public readonly record struct ArenaMark(int Block, int Used, long InUse);
