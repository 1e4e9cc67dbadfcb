using System.CommandLine;
using System.CommandLine.Parsing;
using RewardKit.Distributed;

namespace RewardKit.Cli;

/// <summary>
/// How a verb runs as one rank of <c>mpirun -np N rewardkit VERB ...</c>: the communicator comes from the environment
/// (a plain run gets the single-process one and never loads libmpi); ranks other than 0 print nothing on standard output;
/// a rank that fails prints its error prefixed with its rank and ends the whole job (MPI_Abort) instead of leaving the
/// others waiting in a collective.
/// </summary>
static class MpiJob
{
    /// <summary>The verbs that run as an MPI job; every other verb refuses to start under a launcher with more than one rank.</summary>
    public static readonly IReadOnlySet<string> Verbs = new HashSet<string> { "train", "score", "bench train", "sft", "rl" };

    /// <summary>Runs <paramref name="body"/> with the job's communicator and returns its exit code.</summary>
    public static int Run(Func<ICommunicator, int> body) =>
        RunAsync(communicator => Task.FromResult(body(communicator))).GetAwaiter().GetResult();

    /// <summary>Runs <paramref name="body"/> with the job's communicator and returns its exit code.</summary>
    public static async Task<int> RunAsync(Func<ICommunicator, Task<int>> body)
    {
        using var communicator = DistributedLaunch.FromEnvironment();
        if (communicator.Size == 1) return await body(communicator);
        var stdout = Console.Out;
        if (!communicator.IsRoot()) Console.SetOut(TextWriter.Null);
        try
        {
            int code = await body(communicator);
            if (code != CliApp.Success) communicator.AbortJob(code);   // the other ranks may be waiting in a collective
            return code;
        }
        catch (Exception e)
        {
            communicator.AbortJob(CliApp.ReportError(e, $"rank {communicator.Rank}: "));
            throw;   // not reached: AbortJob ends the process
        }
        finally
        {
            Console.SetOut(stdout);
        }
    }

    /// <summary>
    /// Null when <paramref name="parse"/>'s verb may run under the launcher that started this process, else the message
    /// that says to run it as one process (checked before MPI is initialised).
    /// </summary>
    public static string? RefuseUnsupported(ParseResult parse)
    {
        var (size, _) = DistributedLaunch.AnnouncedWorld();
        if (size <= 1) return null;
        var names = new List<string>();
        for (SymbolResult? s = parse.CommandResult; s is CommandResult c && c.Parent is not null; s = c.Parent) names.Insert(0, c.Command.Name);
        var verb = string.Join(' ', names);
        return Verbs.Contains(verb) || verb.Length == 0 ? null
            : $"'{verb}' does not run under mpirun ({size} ranks); run it as one process. Verbs that run as an MPI job: {string.Join(", ", Verbs)}.";
    }
}
