using System.Globalization;

namespace RewardKit.Distributed;

/// <summary>
/// Decides from the environment whether this process is one rank of an MPI job, so that
/// <c>mpirun -np N rewardkit train ...</c> just works and a plain run never loads libmpi. Open MPI's launcher sets
/// <c>OMPI_COMM_WORLD_SIZE</c>/<c>OMPI_COMM_WORLD_RANK</c>; PMIx launchers (Open MPI's, <c>srun --mpi=pmix</c>) set
/// <c>PMIX_RANK</c>.
/// </summary>
public static class DistributedLaunch
{
    /// <summary>The environment variable that sets the collective timeout in seconds (default <see cref="DefaultTimeout"/>).</summary>
    public const string TimeoutVariable = "REWARDKIT_MPI_TIMEOUT";

    /// <summary>
    /// How long a collective waits for the slowest rank by default: 10 minutes, longer than a checkpoint of the base preset
    /// (1.5 GB written by rank 0 while the others wait) on a slow disk, short enough that a hung job ends the same hour.
    /// </summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    /// <summary>True when an MPI launcher started this process (reads <paramref name="environment"/>, default the process environment).</summary>
    public static bool IsMpiLaunch(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        return !string.IsNullOrEmpty(environment("OMPI_COMM_WORLD_SIZE")) || !string.IsNullOrEmpty(environment("PMIX_RANK"));
    }

    /// <summary>The world size and rank the launcher announced (Open MPI's variables), without initialising MPI; (1, 0) for a plain run.</summary>
    public static (int Size, int Rank) AnnouncedWorld(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        static int Parse(string? value, int fallback) => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : fallback;
        return (Parse(environment("OMPI_COMM_WORLD_SIZE"), 1), Parse(environment("OMPI_COMM_WORLD_RANK") ?? environment("PMIX_RANK"), 0));
    }

    /// <summary>The collective timeout from <see cref="TimeoutVariable"/>, or <see cref="DefaultTimeout"/> when unset.</summary>
    public static TimeSpan TimeoutFromEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var text = environment(TimeoutVariable);
        if (string.IsNullOrWhiteSpace(text)) return DefaultTimeout;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !(seconds > 0) || seconds > 1e7)
            throw new ArgumentException($"{TimeoutVariable}={text}: give the collective timeout in seconds, a number > 0 (e.g. 600).");
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>
    /// MPI_COMM_WORLD when an MPI launcher started this process (MPI is initialised here), else
    /// <see cref="SingleProcessCommunicator.Instance"/> (libmpi is not loaded).
    /// </summary>
    public static ICommunicator FromEnvironment(Func<string, string?>? environment = null) =>
        IsMpiLaunch(environment) ? MpiCommunicator.Initialize(TimeoutFromEnvironment(environment)) : SingleProcessCommunicator.Instance;
}
