using System.Runtime.CompilerServices;

namespace RewardKit.Tensors;

/// <summary>
/// A float32 tensor: contiguous, row-major, with a shape and an optional gradient of the same shape.
/// Views (<see cref="Reshape"/>, <see cref="Slice"/>) share the values and the gradient of the tensor they view.
/// Tensors made by a <see cref="Tape"/> live in its arena and are valid until the tape is <see cref="Tape.Reset"/>.
/// </summary>
public sealed class Tensor
{
    readonly Storage _storage;
    readonly int _offset;

    internal Tensor(Storage storage, int offset, int[] shape, bool requiresGrad)
    {
        _storage = storage;
        _offset = offset;
        Shape = shape;
        Length = Shapes.Product(shape);
        RequiresGrad = requiresGrad;
    }

    /// <summary>The size of each axis.</summary>
    public int[] Shape { get; }

    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public int Length { get; }

    /// <summary>The number of axes.</summary>
    public int Rank => Shape.Length;

    /// <summary>True when gradients flow into this tensor: a parameter, or the result of an op on one while a tape records.</summary>
    public bool RequiresGrad { get; internal set; }

    /// <summary>An optional name (parameters carry their checkpoint name).</summary>
    public string? Name { get; set; }

    /// <summary>The values, row-major.</summary>
    public Span<float> Data
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _storage.Data.AsSpan(_storage.DataOffset + _offset, Length);
    }

    /// <summary>True once a gradient buffer exists (allocated on first use, zeroed).</summary>
    public bool HasGrad => _storage.Grad != null;

    /// <summary>The gradient, allocated (zeroed) on first access. Only for tensors that <see cref="RequiresGrad"/>.</summary>
    public Span<float> Grad
    {
        get
        {
            if (!RequiresGrad) throw new InvalidOperationException($"tensor {Describe()} does not require a gradient.");
            if (_storage.Grad == null)
            {
                if (_storage.GradReleased)
                    throw new InvalidOperationException($"the gradient of the intermediate {Describe()} went back to the arena once backward had used it; set Tape.ReleasesIntermediates = false to read intermediate gradients after Backward.");
                _storage.AllocateGrad();
            }
            return _storage.Grad!.AsSpan(_storage.GradOffset + _offset, Length);
        }
    }

    /// <summary>The size of axis <paramref name="axis"/>; negative axes count from the end.</summary>
    public int Dim(int axis) => Shape[axis < 0 ? Shape.Length + axis : axis];

    /// <summary>The value at a flat index.</summary>
    public float this[int index]
    {
        get => Data[index];
        set => Data[index] = value;
    }

    /// <summary>Copies the values out.</summary>
    public float[] ToArray() => Data.ToArray();

    /// <summary>A scalar tensor's value.</summary>
    public float ToScalar() => Length == 1 ? Data[0] : throw new InvalidOperationException($"ToScalar() needs a one-element tensor, got {Describe()}.");

    /// <summary>A view with another shape and the same number of elements; one axis may be -1 (inferred).</summary>
    public Tensor Reshape(params int[] shape)
    {
        var resolved = Shapes.Resolve(shape, Length, "Reshape", Shape);
        return new Tensor(_storage, _offset, resolved, RequiresGrad) { Name = Name };
    }

    /// <summary>A view of rows [<paramref name="start"/>, start + <paramref name="count"/>) along the first axis.</summary>
    public Tensor Slice(int start, int count)
    {
        if (Rank == 0) throw new ArgumentException("Slice: a scalar tensor has no first axis.");
        if (start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice: rows [{start}, {start + count}) are outside the first axis of {Shapes.Format(Shape)}.");
        var shape = (int[])Shape.Clone();
        shape[0] = count;
        int rowLength = Shape[0] == 0 ? 0 : Length / Shape[0];
        return new Tensor(_storage, _offset + start * rowLength, shape, RequiresGrad) { Name = Name };
    }

    /// <summary>A tensor sharing these values that takes no gradient.</summary>
    public Tensor Detach() => new(_storage, _offset, Shape, requiresGrad: false) { Name = Name };

    /// <summary>Marks a standalone tensor as a leaf that collects gradients (for tests and custom parameters).</summary>
    public Tensor RequireGrad()
    {
        RequiresGrad = true;
        return this;
    }

    /// <summary>Sets this tensor's gradient (if any) to zero.</summary>
    public void ZeroGrad()
    {
        if (_storage.Grad != null) Grad.Clear();
    }

    /// <summary>"name(2, 3)" for messages.</summary>
    public string Describe() => (Name is null ? "" : Name) + Shapes.Format(Shape);

    /// <inheritdoc />
    public override string ToString() => $"Tensor{Describe()}";

    // ---- creation --------------------------------------------------------------------------------------------

    /// <summary>A new tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape) => Wrap(new float[Shapes.Product(Shapes.Validate(shape))], shape);

    /// <summary>A new tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var t = Zeros(shape);
        t.Data.Fill(value);
        return t;
    }

    /// <summary>A new tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    /// <summary>A one-element tensor of shape ().</summary>
    public static Tensor Scalar(float value) => Wrap([value], []);

    /// <summary>A tensor that copies <paramref name="values"/> into the given shape.</summary>
    public static Tensor FromSpan(ReadOnlySpan<float> values, params int[] shape)
    {
        Shapes.Validate(shape);
        if (values.Length != Shapes.Product(shape))
            throw new ArgumentException($"FromSpan: {values.Length} values do not fill shape {Shapes.Format(shape)} ({Shapes.Product(shape)} elements).");
        return Wrap(values.ToArray(), shape);
    }

    /// <summary>A tensor that takes ownership of <paramref name="values"/> (no copy).</summary>
    public static Tensor FromArray(float[] values, params int[] shape)
    {
        Shapes.Validate(shape);
        if (values.Length != Shapes.Product(shape))
            throw new ArgumentException($"FromArray: {values.Length} values do not fill shape {Shapes.Format(shape)} ({Shapes.Product(shape)} elements).");
        return Wrap(values, shape);
    }

    /// <summary>A tensor of N(<paramref name="mean"/>, <paramref name="std"/>²) samples from <paramref name="rng"/>.</summary>
    public static Tensor Normal(Rng rng, float mean, float std, params int[] shape)
    {
        var t = Zeros(shape);
        rng.FillNormal(t.Data, mean, std);
        return t;
    }

    /// <summary>A tensor of U[<paramref name="low"/>, <paramref name="high"/>) samples from <paramref name="rng"/>.</summary>
    public static Tensor Uniform(Rng rng, float low, float high, params int[] shape)
    {
        var t = Zeros(shape);
        rng.FillUniform(t.Data, low, high);
        return t;
    }

    static Tensor Wrap(float[] values, int[] shape) => new(new Storage(values, 0, values.Length), 0, (int[])shape.Clone(), false);

    /// <summary>A tensor over memory owned by an arena or a parameter buffer.</summary>
    internal static Tensor Over(float[] data, int offset, int[] shape, Arena? gradArena, bool requiresGrad)
    {
        var storage = new Storage(data, offset, Shapes.Product(shape)) { GradArena = gradArena };
        return new Tensor(storage, 0, shape, requiresGrad);
    }

    /// <summary>Notes that op output number <paramref name="index"/> of a tape lives in this storage (the first such op is kept).</summary>
    internal void NoteOutput(int index)
    {
        if (_storage.FirstOutput < 0) _storage.FirstOutput = index;
    }

    /// <summary>
    /// Hands the arena gradient back when op output <paramref name="index"/> is the first op output in this storage:
    /// every op that adds into it was recorded later, so its backward has already run.
    /// </summary>
    internal void ReleaseGradAfter(int index)
    {
        if (_storage.FirstOutput == index) _storage.ReleaseGrad();
    }

    /// <summary>Hands the values back to the arena they came from (the tensor must own its whole storage); false when not arena memory.</summary>
    internal bool ReleaseData()
    {
        if (_storage.GradArena is null || _offset != 0 || Length != _storage.Length || _storage.DataReleased) return false;
        _storage.GradArena.Free(_storage.Data, _storage.DataOffset, Length);
        _storage.DataReleased = true;
        return true;
    }

    /// <summary>Stops this tensor (a parameter) taking gradients and drops its gradient memory (see <see cref="ParameterSet.Freeze"/>).</summary>
    internal void Freeze()
    {
        RequiresGrad = false;
        _storage.Grad = null;
    }

    /// <summary>Points this tensor's gradient at external memory (a parameter buffer's slice).</summary>
    internal void BindGrad(float[] grad, int offset) => _storage.BindGrad(grad, offset);

    /// <summary>Points this tensor's values at external memory (a parameter buffer's slice), copying current values.</summary>
    internal void BindData(float[] data, int offset) => _storage.BindData(data, offset);
}

/// <summary>The memory behind a tensor and its views: values, and a gradient allocated lazily.</summary>
sealed class Storage(float[] data, int dataOffset, int length)
{
    public float[] Data = data;
    public int DataOffset = dataOffset;
    public readonly int Length = length;
    public float[]? Grad;
    public int GradOffset;
    public Arena? GradArena;   // the arena of a tape tensor: its values, and its gradient once allocated, come from it
    public int FirstOutput = -1;   // index of the first tape op that output into this storage, -1 for none
    public bool GradReleased, DataReleased;
    bool _gradFromArena;

    public void AllocateGrad()
    {
        if (GradArena != null) { (Grad, GradOffset) = GradArena.Allocate(Length, clear: true); _gradFromArena = true; }
        else { Grad = new float[Length]; GradOffset = 0; }
    }

    public void ReleaseGrad()
    {
        if (!_gradFromArena || Grad is null) return;
        GradArena!.Free(Grad, GradOffset, Length);
        Grad = null;
        _gradFromArena = false;
        GradReleased = true;
    }

    public void BindGrad(float[] grad, int offset)
    {
        _gradFromArena = false;
        Grad = grad;
        GradOffset = offset;
    }

    public void BindData(float[] data, int offset)
    {
        Data.AsSpan(DataOffset, Length).CopyTo(data.AsSpan(offset, Length));
        Data = data;
        DataOffset = offset;
    }
}
