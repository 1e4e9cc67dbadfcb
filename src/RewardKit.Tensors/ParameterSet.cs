namespace RewardKit.Tensors;

/// <summary>
/// A model's parameters in one contiguous value buffer and one contiguous gradient buffer, each parameter a named
/// slice of both. Optimisers are one loop over <see cref="Values"/>/<see cref="Gradients"/> (per group), zeroing all
/// gradients is one <see cref="ZeroGrad"/>, and checkpoints are one copy.
/// <code>
/// var builder = new ParameterSet.Builder();
/// var w = builder.Add("h.0.mlp.c_fc.weight", [768, 3072]);          // a Tensor, bound when Build() runs
/// var b = builder.Add("h.0.mlp.c_fc.bias", [3072], weightDecay: false);
/// var parameters = builder.Build();
/// </code>
/// </summary>
public sealed class ParameterSet
{
    readonly float[] _values;
    float[] _grads;
    readonly List<Entry> _entries;
    readonly Dictionary<string, Entry> _byName;

    /// <summary>One parameter: its tensor, its offset in the flat buffers and whether weight decay applies.</summary>
    public sealed record Entry(string Name, Tensor Tensor, int Offset, bool WeightDecay)
    {
        /// <summary>The number of elements.</summary>
        public int Length => Tensor.Length;
    }

    ParameterSet(float[] values, float[] grads, List<Entry> entries)
    {
        _values = values;
        _grads = grads;
        _entries = entries;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>All parameter values, concatenated in declaration order.</summary>
    public Span<float> Values => _values;

    /// <summary>All gradients, in the same layout as <see cref="Values"/>.</summary>
    public Span<float> Gradients => _grads;

    /// <summary>The total number of scalars.</summary>
    public int Count => _values.Length;

    /// <summary>The parameters in declaration order.</summary>
    public IReadOnlyList<Entry> Entries => _entries;

    /// <summary>Runs of consecutive entries with the same weight-decay flag, as (offset, length, decay).</summary>
    internal (int Offset, int Length, bool Decay)[] DecayGroups()
    {
        var groups = new List<(int Offset, int Length, bool Decay)>();
        foreach (var e in _entries)
        {
            if (groups.Count > 0 && groups[^1].Decay == e.WeightDecay && groups[^1].Offset + groups[^1].Length == e.Offset)
                groups[^1] = (groups[^1].Offset, groups[^1].Length + e.Length, e.WeightDecay);
            else groups.Add((e.Offset, e.Length, e.WeightDecay));
        }
        return [.. groups];
    }

    /// <summary>The parameter called <paramref name="name"/>.</summary>
    public Tensor this[string name] => TryGet(name) ?? throw new KeyNotFoundException($"no parameter named '{name}'.");

    /// <summary>The parameter called <paramref name="name"/>, or null.</summary>
    public Tensor? TryGet(string name) => _byName.TryGetValue(name, out var e) ? e.Tensor : null;

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad() => Array.Clear(_grads);

    /// <summary>
    /// Makes every parameter a constant: none takes a gradient from then on (ops on them record no backward for them) and
    /// the gradient buffer is released (<see cref="Gradients"/> becomes empty). For a frozen base under trained adapters.
    /// </summary>
    public void Freeze()
    {
        foreach (var e in _entries) e.Tensor.Freeze();
        _grads = [];
    }

    /// <summary>True once <see cref="Freeze"/> has run.</summary>
    public bool IsFrozen => _grads.Length == 0 && _values.Length > 0;

    /// <summary>Collects parameter declarations, then allocates them together.</summary>
    public sealed class Builder
    {
        readonly List<(string Name, Tensor Tensor, bool Decay)> _pending = [];
        readonly HashSet<string> _names = new(StringComparer.Ordinal);
        bool _built;

        /// <summary>
        /// Declares a parameter (initially zeros; the returned tensor may be initialised before or after <see cref="Build"/>).
        /// Biases and norm weights usually pass <paramref name="weightDecay"/> = false.
        /// </summary>
        public Tensor Add(string name, int[] shape, bool weightDecay = true)
        {
            if (_built) throw new InvalidOperationException("ParameterSet.Builder: Build() has already run.");
            if (!_names.Add(name)) throw new ArgumentException($"ParameterSet.Builder: a parameter named '{name}' is already declared.");
            var t = Tensor.Zeros(shape);
            t.Name = name;
            t.RequireGrad();
            _pending.Add((name, t, weightDecay));
            return t;
        }

        /// <summary>Allocates the flat buffers and binds every declared tensor to its slice (current values are kept).</summary>
        public ParameterSet Build()
        {
            if (_built) throw new InvalidOperationException("ParameterSet.Builder: Build() has already run.");
            _built = true;
            long total = 0;
            foreach (var p in _pending) total += p.Tensor.Length;
            if (total > int.MaxValue) throw new InvalidOperationException($"ParameterSet: {total} parameters do not fit one buffer.");
            var values = GC.AllocateUninitializedArray<float>((int)total, pinned: true);
            var grads = GC.AllocateArray<float>((int)total, pinned: true);
            var entries = new List<Entry>(_pending.Count);
            int offset = 0;
            foreach (var (name, tensor, decay) in _pending)
            {
                tensor.BindData(values, offset);
                tensor.BindGrad(grads, offset);
                entries.Add(new Entry(name, tensor, offset, decay));
                offset += tensor.Length;
            }
            return new ParameterSet(values, grads, entries);
        }
    }
}
