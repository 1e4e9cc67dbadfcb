using System.Diagnostics;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;
using RewardKit.Tensors.Optim;

namespace RewardKit.Training;

/// <summary>The loss of one micro-batch, as a <see cref="MicroBatchLossBuilder"/> returns it.</summary>
/// <param name="Loss">The scalar loss, recorded on the step's tape (the step reads it, runs backward and resets the tape).</param>
/// <param name="Tokens">Tokens the micro-batch processed (for tokens/s; 0 when not meaningful).</param>
public readonly record struct MicroBatchLoss(Tensor Loss, long Tokens);

/// <summary>
/// Builds the loss of micro-batch <paramref name="microBatch"/> (0-based within the step) on <paramref name="tape"/>: picks
/// its data, runs the forward pass and returns the loss. Anything else the caller wants from the micro-batch (rewards,
/// accuracies, a PPO clip fraction) it reads from the tensors here, before the step resets the tape.
/// </summary>
public delegate MicroBatchLoss MicroBatchLossBuilder(Tape tape, int microBatch);

/// <summary>
/// Combines gradients across workers before they are clipped and applied: the seam where data-parallel training
/// plugs in an Allreduce (sum or mean of every rank's <see cref="ParameterSet.Gradients"/>). It runs once per step,
/// after the backward pass of every micro-batch and before the global-norm clipping, so the norm, the clipping and the
/// update are those of the combined gradient. The default, <see cref="NoGradientReduction"/>, does nothing.
/// </summary>
public interface IGradientReducer
{
    /// <summary>Replaces this worker's accumulated gradients with the combined ones (every worker must end with the same values).</summary>
    void ReduceGradients(ParameterSet parameters);

    /// <summary>
    /// The step's loss as reported (the mean over micro-batches of this worker); a data-parallel reducer returns the
    /// mean over workers so every rank logs the same value. Default: unchanged.
    /// </summary>
    double ReduceLoss(double loss) => loss;

    /// <summary>
    /// The step's tokens as reported (this worker's); a data-parallel reducer returns the sum over workers, so tokens/s is
    /// the job's. Default: unchanged.
    /// </summary>
    long ReduceTokens(long tokens) => tokens;
}

/// <summary>The single-process <see cref="IGradientReducer"/>: gradients and loss stay as they are.</summary>
public sealed class NoGradientReduction : IGradientReducer
{
    /// <summary>The one instance (it has no state).</summary>
    public static NoGradientReduction Instance { get; } = new();

    NoGradientReduction() { }

    /// <inheritdoc/>
    public void ReduceGradients(ParameterSet parameters) { }
}

/// <summary>A non-finite loss or gradient norm, as <see cref="TrainingStep.OnDiverged"/> receives it.</summary>
/// <param name="Step">The 1-based number of the step that failed (its update was not applied).</param>
/// <param name="Quantity">"loss" or "gradient norm".</param>
/// <param name="Value">The non-finite value.</param>
public readonly record struct Divergence(long Step, string Quantity, double Value);

/// <summary>Where one step's time went (each phase summed over the micro-batches).</summary>
/// <param name="Forward">Zeroing the gradients, building the losses (data, forward pass, loss) and reading their values.</param>
/// <param name="Backward">The backward passes and tape resets.</param>
/// <param name="Reduce">The <see cref="IGradientReducer"/>.</param>
/// <param name="Clip">Global-norm clipping.</param>
/// <param name="Optimizer">The optimiser update.</param>
public readonly record struct StepTimes(TimeSpan Forward, TimeSpan Backward, TimeSpan Reduce, TimeSpan Clip, TimeSpan Optimizer);

/// <summary>What one optimiser step did, from which the caller builds its metrics row.</summary>
/// <param name="Loss">Σ over micro-batches of loss / micro-batches (each term in float, as the loss is scaled for backward), after <see cref="IGradientReducer.ReduceLoss"/>.</param>
/// <param name="GradNorm">The global gradient norm before clipping.</param>
/// <param name="LearningRate">The learning rate the update used.</param>
/// <param name="Tokens">Σ <see cref="MicroBatchLoss.Tokens"/>, after <see cref="IGradientReducer.ReduceTokens"/>.</param>
/// <param name="Elapsed">Wall time of the whole step.</param>
/// <param name="Times">Wall time per phase.</param>
public readonly record struct TrainingStepResult(double Loss, double GradNorm, double LearningRate, long Tokens, TimeSpan Elapsed, StepTimes Times)
{
    /// <summary>Tokens per second of wall time (unrounded).</summary>
    public double TokensPerSecond => Tokens / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// One optimiser step, the same for every trainer (reward training, the SFT warm start, <c>bench train</c>, policy
/// optimisation): zero the gradients; for each micro-batch build the loss, check it is finite, run backward scaled by
/// 1/micro-batches and reset the tape; combine gradients across workers (<see cref="GradientReducer"/>); set the learning
/// rate from the schedule; clip to the global norm; check the norm is finite; apply the optimiser.
/// <code>
/// var step = new TrainingStep(model.Parameters, new AdamW(model.Parameters, 1e-4, pool: pool), tape,
///     LearningRateSchedule.CosineWithWarmup(1e-4, 10, 1000), maxGradNorm: 1.0, pool);
/// for (long s = 0; s &lt; 1000; s++)
/// {
///     var result = step.Run(s, microBatches: 2, (tape, micro) =>
///     {
///         var batch = NextBatch();                                     // the caller's data order
///         var rewards = model.Forward(tape, batch, training: true);    // (2B)
///         var loss = BradleyTerry.Loss(tape, rewards.Slice(0, B), rewards.Slice(B, B));
///         return new MicroBatchLoss(loss, batch.Lengths.Sum());
///     });
///     Log(s + 1, result.Loss, result.GradNorm, result.LearningRate);
/// }
/// </code>
/// A PPO update calls <see cref="Run"/> once per minibatch with a builder returning policy loss + c₁·value loss −
/// c₂·entropy over its own parameter set (policy and value head together, or one step object each). The step keeps no
/// counters: the caller passes the step number (which the schedule reads) and owns data order, RNGs and checkpoints.
/// A non-finite loss or norm throws the exception <see cref="OnDiverged"/> builds before the update is applied.
/// </summary>
public sealed class TrainingStep
{
    readonly ParameterSet _parameters;
    readonly IOptimizer _optimizer;
    readonly Tape _tape;
    readonly LearningRateSchedule _schedule;
    readonly double _maxGradNorm;
    readonly WorkerPool? _pool;

    /// <summary>A step over <paramref name="parameters"/>.</summary>
    /// <param name="parameters">What the step zeroes, clips and (through <paramref name="optimizer"/>) updates.</param>
    /// <param name="optimizer">The optimiser over <paramref name="parameters"/>; its learning rate is set before every update.</param>
    /// <param name="tape">The recording tape the losses are built on (reset after each micro-batch's backward, so memory stays flat).</param>
    /// <param name="schedule">The learning rate at each step number.</param>
    /// <param name="maxGradNorm">Global-norm clipping bound, as torch.nn.utils.clip_grad_norm_; 0 = no clipping (the norm is still computed and checked).</param>
    /// <param name="pool">Threads for the norm and the rescale (results are the same for any count).</param>
    public TrainingStep(ParameterSet parameters, IOptimizer optimizer, Tape tape, LearningRateSchedule schedule, double maxGradNorm, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(schedule);
        if (!(maxGradNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(maxGradNorm), maxGradNorm, "use a bound > 0, or 0 to turn clipping off.");
        _parameters = parameters;
        _optimizer = optimizer;
        _tape = tape;
        _schedule = schedule;
        _maxGradNorm = maxGradNorm > 0 ? maxGradNorm : double.PositiveInfinity;
        _pool = pool;
    }

    /// <summary>Combines gradients across workers after backward and before clipping. Default <see cref="NoGradientReduction"/>.</summary>
    public IGradientReducer GradientReducer { get; init; } = NoGradientReduction.Instance;

    /// <summary>
    /// Builds the exception thrown for a non-finite loss or gradient norm (the caller's message: which run, which
    /// checkpoint to resume from, which option to lower). Default: a <see cref="TrainingDivergedException"/> naming the step.
    /// </summary>
    public Func<Divergence, Exception>? OnDiverged { get; init; }

    /// <summary>The optimiser the step applies.</summary>
    public IOptimizer Optimizer => _optimizer;

    /// <summary>
    /// Takes optimiser step number <paramref name="step"/> (0-based: the steps already taken) from
    /// <paramref name="microBatches"/> micro-batches whose losses <paramref name="loss"/> builds, in order.
    /// </summary>
    public TrainingStepResult Run(long step, int microBatches, MicroBatchLossBuilder loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (microBatches < 1) throw new ArgumentOutOfRangeException(nameof(microBatches), microBatches, "a step needs at least one micro-batch.");
        long start = Stopwatch.GetTimestamp(), t0 = start;
        long forward = 0, backward = 0;
        _parameters.ZeroGrad();
        double lossSum = 0;
        long tokens = 0;
        for (int micro = 0; micro < microBatches; micro++)
        {
            var built = loss(_tape, micro);
            float value = built.Loss.ToScalar();
            if (!float.IsFinite(value)) throw Diverged(step, "loss", value);
            lossSum += value / microBatches;
            tokens += built.Tokens;
            long t1 = Stopwatch.GetTimestamp();
            _tape.Backward(built.Loss, 1f / microBatches);
            _tape.Reset();
            long t2 = Stopwatch.GetTimestamp();
            forward += t1 - t0;
            backward += t2 - t1;
            t0 = t2;
        }
        long t3 = Stopwatch.GetTimestamp();
        GradientReducer.ReduceGradients(_parameters);
        lossSum = GradientReducer.ReduceLoss(lossSum);
        tokens = GradientReducer.ReduceTokens(tokens);
        long t4 = Stopwatch.GetTimestamp();
        double lr = _schedule.At(step);
        _optimizer.LearningRate = lr;
        double gradNorm = GradientClipping.ClipGlobalNorm(_parameters, _maxGradNorm, _pool);
        if (!double.IsFinite(gradNorm)) throw Diverged(step, "gradient norm", gradNorm);
        long t5 = Stopwatch.GetTimestamp();
        _optimizer.Step();
        long t6 = Stopwatch.GetTimestamp();
        var times = new StepTimes(Ticks(forward), Ticks(backward), Ticks(t4 - t3), Ticks(t5 - t4), Ticks(t6 - t5));
        return new TrainingStepResult(lossSum, gradNorm, lr, tokens, Ticks(t6 - start), times);
    }

    Exception Diverged(long step, string quantity, double value)
    {
        var divergence = new Divergence(step + 1, quantity, value);
        return OnDiverged?.Invoke(divergence) ?? new TrainingDivergedException(
            $"step {divergence.Step}: the {quantity} is {value}; training stopped before applying the update.", divergence.Step, null);
    }

    static TimeSpan Ticks(long stopwatchTicks) => Stopwatch.GetElapsedTime(0, stopwatchTicks);
}
