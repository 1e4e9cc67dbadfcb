// Shapes: S cache slots (sequences), NH heads, cap positions per slot, hs = C / NH, T prefill length, A sequences in a step.
namespace RewardKit.Models;

/// <summary>
/// The keys and values every attention layer has computed so far, for <see cref="Rows"/> sequences of up to
/// <see cref="Capacity"/> tokens each: what lets generation feed one new token per sequence per step instead of the
/// whole text. Each layer holds keys and values as (S, NH, cap, hs), head-major so a head's keys are contiguous for the
/// decode attention (<see cref="RewardKit.Tensors.Kernels.CachedAttentionKernel"/>). Slot s holds sequence s only, from
/// position 0, so its positions are its own (per-row positions, whatever padding the prompts had).
/// Filled by <see cref="GptLanguageModel.Prefill"/> and extended by <see cref="GptLanguageModel.DecodeStep"/>.
/// </summary>
public sealed class KvCache
{
    readonly float[][] _keys;
    readonly float[][] _values;
    readonly int _heads, _headSize;

    /// <summary>An empty cache for <paramref name="rows"/> sequences of up to <paramref name="capacity"/> tokens of a model of shape <paramref name="config"/>.</summary>
    public KvCache(GptConfig config, int rows, int capacity)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), $"KvCache: {rows} rows; use at least 1.");
        if (capacity < 1 || capacity > config.Positions)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"KvCache: capacity {capacity} must be in [1, n_positions = {config.Positions}].");
        long floats = (long)rows * config.EmbeddingSize * capacity;
        if (floats > Array.MaxLength)
            throw new ArgumentException($"KvCache: {rows} rows of {capacity} positions need {floats} floats per layer, more than one array holds; generate in smaller batches.");
        Rows = rows;
        Capacity = capacity;
        Layers = config.Layers;
        _heads = config.Heads;
        _headSize = config.HeadSize;
        _keys = new float[config.Layers][];
        _values = new float[config.Layers][];
        for (int l = 0; l < config.Layers; l++)
        {
            _keys[l] = GC.AllocateUninitializedArray<float>((int)floats);
            _values[l] = GC.AllocateUninitializedArray<float>((int)floats);
        }
        Lengths = new int[rows];
    }

    /// <summary>S, the number of sequences (slots).</summary>
    public int Rows { get; }

    /// <summary>The most tokens a slot holds.</summary>
    public int Capacity { get; }

    /// <summary>Attention layers cached.</summary>
    public int Layers { get; }

    /// <summary>(S) tokens cached per slot: the position the slot's next token takes.</summary>
    public int[] Lengths { get; }

    /// <summary>Layer <paramref name="layer"/>'s keys, (S, NH, cap, hs).</summary>
    internal float[] Keys(int layer) => _keys[layer];

    /// <summary>Layer <paramref name="layer"/>'s values, (S, NH, cap, hs).</summary>
    internal float[] Values(int layer) => _values[layer];

    /// <summary>
    /// Stores the keys and values of a prefill: qkv (B, T, 3C) of sequences in slots [0, B), positions [0, T) (padding
    /// positions too: a slot's next token overwrites them, and no query reads past its slot's length).
    /// </summary>
    internal void StorePrefill(int layer, ReadOnlySpan<float> qkv, int batch, int time)
    {
        int c = _heads * _headSize;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < time; t++)
                Store(layer, b, t, qkv.Slice((b * time + t) * 3 * c, 3 * c));
    }

    /// <summary>Stores the key and value of one new token per sequence: qkv (A, 3C), sequence a at slot slots[a], position positions[a].</summary>
    internal void StoreStep(int layer, ReadOnlySpan<float> qkv, ReadOnlySpan<int> slots, ReadOnlySpan<int> positions)
    {
        int c = _heads * _headSize;
        for (int a = 0; a < slots.Length; a++) Store(layer, slots[a], positions[a], qkv.Slice(a * 3 * c, 3 * c));
    }

    /// <summary>Copies k and v of one token (a [q | k | v] row of 3C) into slot <paramref name="slot"/> at <paramref name="position"/>, head by head.</summary>
    void Store(int layer, int slot, int position, ReadOnlySpan<float> qkvRow)
    {
        int c = _heads * _headSize, hs = _headSize;
        var keys = _keys[layer].AsSpan();
        var values = _values[layer].AsSpan();
        for (int h = 0; h < _heads; h++)
        {
            int at = ((slot * _heads + h) * Capacity + position) * hs;
            qkvRow.Slice(c + h * hs, hs).CopyTo(keys.Slice(at, hs));
            qkvRow.Slice(2 * c + h * hs, hs).CopyTo(values.Slice(at, hs));
        }
    }
}
