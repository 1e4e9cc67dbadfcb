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
/// A tape is used by one thread at a time; ops parallelise internally over <see cref="Pool"/>.
/// </summary>
public sealed class Tape
{
    readonly List<Action> _backward = [];
    readonly List<Tensor> _outputs = [];

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
        _backward.Add(backward);
        _outputs.Add(output);
    }

    /// <summary>
    /// Back-propagates from a one-element <paramref name="loss"/>: seeds its gradient with 1 (or <paramref name="seed"/>) and runs
    /// every recorded backward in reverse order. Gradients accumulate (call ZeroGrad on parameters between steps).
    /// </summary>
    public void Backward(Tensor loss, float seed = 1f)
    {
        if (loss.Length != 1) throw new ArgumentException($"Backward: the loss must have one element, got shape {Shapes.Format(loss.Shape)}.");
        if (!loss.RequiresGrad) throw new InvalidOperationException("Backward: the loss takes no gradient (was the tape recording, and does it depend on a parameter?).");
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
        System.Numerics.Tensors.TensorPrimitives.Add(output.Grad, outputGradient, output.Grad);
        RunBackward();
    }

    void RunBackward()
    {
        for (int i = _backward.Count - 1; i >= 0; i--)
            if (_outputs[i].HasGrad) _backward[i]();
    }

    /// <summary>Forgets the recorded ops and frees every tensor made on this tape (they must not be used after this).</summary>
    public void Reset()
    {
        _backward.Clear();
        _outputs.Clear();
        Arena.Reset();
    }
}
