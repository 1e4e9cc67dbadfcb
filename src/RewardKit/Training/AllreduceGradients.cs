using System.Diagnostics;
using RewardKit.Distributed;
using RewardKit.Tensors;

namespace RewardKit.Training;

/// <summary>
/// Data-parallel <see cref="IGradientReducer"/>: one Allreduce (sum) over the whole contiguous gradient buffer
/// (<see cref="ParameterSet.Gradients"/>), so every rank ends a step with the same gradient and applies the same update.
/// Each rank must build its loss as its shard's share of the global batch's loss: its own mean loss times
/// rows_rank / rows_global (what the division by the world size becomes when shards are unequal). The sum over ranks is
/// then exactly the single-process gradient of the global batch, up to float rounding: the rows are summed in a different
/// order (each rank's GEMMs over its rows, then rank by rank), so weights agree with a one-process run to about 1e-6
/// relative, not bit for bit. Sums are identical on every rank (Open MPI's algorithms combine in the same order on all
/// ranks; with 2 ranks a + b = b + a exactly).
/// </summary>
public sealed class AllreduceGradients : IGradientReducer
{
    readonly ICommunicator _communicator;
    readonly double[] _scalar = new double[1];

    /// <summary>A reducer over <paramref name="communicator"/>'s ranks.</summary>
    public AllreduceGradients(ICommunicator communicator)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        _communicator = communicator;
    }

    /// <summary>Wall time of the last step's gradient Allreduce (zero in a single process).</summary>
    public TimeSpan LastReduceTime { get; private set; }

    /// <inheritdoc/>
    public void ReduceGradients(ParameterSet parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (_communicator.Size == 1) return;
        long start = Stopwatch.GetTimestamp();
        _communicator.AllreduceSum(parameters.Gradients);
        LastReduceTime = Stopwatch.GetElapsedTime(start);
    }

    /// <summary>The global batch's loss: the sum of every rank's share (see the class summary).</summary>
    public double ReduceLoss(double loss) => Sum(loss);

    /// <summary>The tokens of every rank's shard.</summary>
    public long ReduceTokens(long tokens) => (long)Sum(tokens);

    double Sum(double value)
    {
        if (_communicator.Size == 1) return value;
        _scalar[0] = value;
        _communicator.AllreduceSum(_scalar);
        return _scalar[0];
    }
}
