using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors;

/// <summary>
/// Records the ops of one forward pass so that <see cref="Backward(Tensor, float)"/> can run their backward functions in reverse.
/// Every op is an extension method on <see cref="Tape"/> (one file per op under Ops/, forward and backward together):
/// <code>
/// var tape = new Tape(pool);
/// var y = tape.Tanh(tape.Linear(x, w, b));
/// var loss = tape.Mean(y);
/// tape.Backward(loss);      // gradients accumulate into w.Grad and b.Grad
/// tape.Reset();             // frees the step's activations at once
/// </code>
/// Outputs and activation gradients come from the tape's <see cref="Arena"/>, so they are valid until <see cref="Reset"/>.
/// With <see cref="RecordsGradients"/> off (inference mode) nothing is recorded and no activation is kept for backward.
/// With <see cref="ReleasesIntermediates"/> on (the default) backward hands each intermediate's gradient back to the arena
/// as soon as the op that made it has run its backward, so a step holds the activations and about one layer's
/// gradients, not every activation's gradient.
/// A tape is used by one thread at a time; ops parallelise internally over <see cref="Pool"/>.
/// </summary>
public sealed class Tape
{
    readonly List<Action> _backward = [];
    readonly List<Tensor> _outputs = [];
    bool _released;   // a backward has released intermediates since the last reset
    long _allocatedAtCollection = -1;
    int _gen0AtCollection;

    /// <summary>Creates a tape whose ops run on <paramref name="pool"/> (default: one thread, the caller).</summary>
    public Tape(WorkerPool? pool = null, Arena? arena = null)
    {
        Pool = pool ?? WorkerPool.Single;
        Arena = arena ?? new Arena();
    }

    /// <summary>The threads the ops run on.</summary>
    public WorkerPool Pool { get; }

    /// <summary>Where outputs and activation gradients live until <see cref="Reset"/>.</summary>
    public Arena Arena { get; }

    /// <summary>False in inference mode: ops record nothing and their outputs take no gradient. Default true.</summary>
    public bool RecordsGradients { get; set; } = true;

    /// <summary>
    /// True (default): during <see cref="Backward(Tensor, float)"/> each op output's gradient goes back to the arena once the
    /// op's backward has used it (every op adding into it was recorded later and has run), and ops hand back what they
    /// kept only for their own backward (<see cref="Release"/>). Gradients are the same either way; with it on, intermediate
    /// gradients cannot be read after backward and backward runs once per recording. Parameters' gradients are never released.
    /// </summary>
    public bool ReleasesIntermediates { get; set; } = true;

    /// <summary>
    /// Bytes of managed garbage a step may leave before <see cref="Reset"/> collects it (generation 0 only; 0, the default,
    /// leaves it to the runtime). A recorded step leaves some KB of bookkeeping (tensor objects, backward closures); the
    /// runtime lets generation 0 grow to its budget, tens of MB on a large-cache CPU, before its first collection, so a
    /// training loop's resident memory would creep for its first thousand steps. A budget of a few MB keeps it flat at
    /// the cost of a sub-millisecond collection every few hundred steps. No collection runs when the runtime made one since.
    /// </summary>
    public long GarbageBudgetBytes { get; set; }

    /// <summary>The <see cref="GarbageBudgetBytes"/> RewardKit's training loops use: 4 MiB.</summary>
    public const long TrainingGarbageBudgetBytes = 4 << 20;

    /// <summary>
    /// False (default): attention keeps its probabilities (B, NH, T, T) for the backward. True: the backward recomputes them
    /// block by block with the forward's code (the same gradients bit for bit), which saves B·NH·T·T floats per layer
    /// (600 MB at GPT-2 small, batch 16 × 256) for one more Q·Kᵀ and softmax per layer (measured +8% CPU time on the
    /// bench's small preset). Only in effect while <see cref="ReleasesIntermediates"/> is on.
    /// </summary>
    public bool RecomputesAttention { get; set; }

    /// <summary>How many backward functions are recorded.</summary>
    public int Count => _backward.Count;

    /// <summary>A new uninitialised tensor in the arena (ops overwrite it), taking a gradient when <paramref name="requiresGrad"/>.</summary>
    public Tensor Empty(int[] shape, bool requiresGrad = false)
    {
        Shapes.Validate(shape);
        var (block, offset) = Arena.Allocate(Shapes.Product(shape), clear: false);
        return Tensor.Over(block, offset, (int[])shape.Clone(), Arena, requiresGrad && RecordsGradients);
    }

    /// <summary>A new zeroed tensor in the arena.</summary>
    public Tensor Zeros(int[] shape, bool requiresGrad = false)
    {
        var t = Empty(shape, requiresGrad);
        t.Data.Clear();
        return t;
    }

    /// <summary>True when an op on these inputs must record its backward: the tape records and an input takes a gradient.</summary>
    public bool NeedsGrad(Tensor a) => RecordsGradients && a.RequiresGrad;

    /// <inheritdoc cref="NeedsGrad(Tensor)"/>
    public bool NeedsGrad(Tensor a, Tensor? b) => RecordsGradients && (a.RequiresGrad || (b?.RequiresGrad ?? false));

    /// <inheritdoc cref="NeedsGrad(Tensor)"/>
    public bool NeedsGrad(Tensor a, Tensor? b, Tensor? c) =>
        RecordsGradients && (a.RequiresGrad || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false));

    /// <summary>A new output tensor for an op; it takes a gradient when <paramref name="needsGrad"/> (see <see cref="NeedsGrad(Tensor)"/>).</summary>
    public Tensor Output(int[] shape, bool needsGrad) => Empty(shape, needsGrad);

    /// <summary>
    /// Records <paramref name="backward"/> for <paramref name="output"/>: it reads <c>output.Grad</c> and adds into the inputs'
    /// <c>Grad</c> (only for inputs that <see cref="Tensor.RequiresGrad"/>). Ignored in inference mode or when the output takes no gradient.
    /// </summary>
    public void Record(Tensor output, Action backward)
    {
        if (!RecordsGradients || !output.RequiresGrad) return;
        output.NoteOutput(_outputs.Count);
        _backward.Add(backward);
        _outputs.Add(output);
    }

    /// <summary>
    /// Hands <paramref name="t"/>'s values back to the arena when <see cref="ReleasesIntermediates"/> is on: for a tensor an op
    /// kept only for its own backward (released at the end of that backward), or values no recorded backward reads (an
    /// output consumed only by ops that do not keep it). <paramref name="t"/> must be a whole tensor made on this tape, and
    /// its values must not be read after this; its gradient is unaffected. Does nothing otherwise.
    /// </summary>
    public void Release(Tensor t)
    {
        if (ReleasesIntermediates) t.ReleaseData();
    }

    /// <summary>
    /// Back-propagates from a one-element <paramref name="loss"/>: seeds its gradient with 1 (or <paramref name="seed"/>) and runs
    /// every recorded backward in reverse order. Gradients accumulate (call ZeroGrad on parameters between steps).
    /// </summary>
    public void Backward(Tensor loss, float seed = 1f)
    {
        if (loss.Length != 1) throw new ArgumentException($"Backward: the loss must have one element, got shape {Shapes.Format(loss.Shape)}.");
        if (!loss.RequiresGrad) throw new InvalidOperationException("Backward: the loss takes no gradient (was the tape recording, and does it depend on a parameter?).");
        ThrowIfReleased();
        loss.Grad[0] += seed;
        RunBackward();
    }

    /// <summary>
    /// Back-propagates from any <paramref name="output"/> given dL/d<paramref name="output"/> (same length): adds it into the
    /// output's gradient and runs every recorded backward in reverse order.
    /// </summary>
    public void Backward(Tensor output, ReadOnlySpan<float> outputGradient)
    {
        if (outputGradient.Length != output.Length)
            throw new ArgumentException($"Backward: {outputGradient.Length} gradient values for an output of shape {Shapes.Format(output.Shape)}.");
        if (!output.RequiresGrad) throw new InvalidOperationException("Backward: the output takes no gradient (was the tape recording, and does it depend on a parameter?).");
        ThrowIfReleased();
        System.Numerics.Tensors.TensorPrimitives.Add(output.Grad, outputGradient, output.Grad);
        RunBackward();
    }

    void ThrowIfReleased()
    {
        if (_released)
            throw new InvalidOperationException("Backward: this recording's intermediate gradients were already released by an earlier Backward; Reset and record again, or set Tape.ReleasesIntermediates = false to run backward more than once.");
    }

    void RunBackward()
    {
        _released = ReleasesIntermediates;
        for (int i = _backward.Count - 1; i >= 0; i--)
        {
            var output = _outputs[i];
            if (!output.HasGrad) continue;
            _backward[i]();
            if (ReleasesIntermediates) output.ReleaseGradAfter(i);
        }
    }

    /// <summary>Forgets the recorded ops and frees every tensor made on this tape (they must not be used after this).</summary>
    public void Reset()
    {
        _backward.Clear();
        _outputs.Clear();
        _released = false;
        Arena.Reset();
        if (GarbageBudgetBytes > 0) CollectGarbageOverBudget();
    }

    void CollectGarbageOverBudget()
    {
        long allocated = GC.GetTotalAllocatedBytes(precise: false);
        int gen0 = GC.CollectionCount(0);
        if (_allocatedAtCollection < 0 || gen0 != _gen0AtCollection) { _allocatedAtCollection = allocated; _gen0AtCollection = gen0; return; }
        if (allocated - _allocatedAtCollection < GarbageBudgetBytes) return;
        GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: false);
        _allocatedAtCollection = GC.GetTotalAllocatedBytes(precise: false);
        _gen0AtCollection = GC.CollectionCount(0);
    }
}
