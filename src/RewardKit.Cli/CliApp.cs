using System.CommandLine;
using RewardKit.Cli.Commands;

namespace RewardKit.Cli;

/// <summary>Builds the <c>rewardkit</c> command tree and runs it with RewardKit's exit-code convention.</summary>
public static class CliApp
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code when the user's input (an argument, a file) is wrong; the message says what to fix.</summary>
    public const int UserError = 1;

    /// <summary>Exit code of a bug inside RewardKit.</summary>
    public const int InternalError = 2;

    /// <summary>The root command with every verb attached.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("RewardKit: train, evaluate, calibrate and serve reward models for RLHF.");
        foreach (var command in AllCommands())
            root.Subcommands.Add(command);
        return root;
    }

    static IEnumerable<Command> AllCommands()
    {
        yield return QuickstartCommand.Create();
        yield return DataCommand.Create();
        yield return TokenizerCommand.Create();
        yield return TrainCommand.Create();
        yield return BackboneCommand.Create();
        yield return ScoreCommand.Create();
        yield return EvalCommand.Create();
        yield return CalibrateCommand.Create();
        yield return RankCommand.Create();
        yield return CompareCommand.Create();
        yield return BestOfNCommand.Create();
        yield return SelectCommand.Create();
        yield return GenerateCommand.Create();
        yield return SftCommand.Create();
        yield return RlCommand.Create();
        yield return JudgeCommand.Create();
        yield return QuantizeCommand.Create();
        yield return MergeLoraCommand.Create();
        yield return ExportCommand.Create();
        yield return RegistryCommand.Create();
        yield return ServeCommand.Create();
        yield return AnnotateCommand.Create();
        yield return BenchCommand.Create();
    }

    /// <summary>Parses <paramref name="args"/>, runs the chosen verb and returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var root = BuildRoot();
        var parse = root.Parse(args);
        if (MpiJob.RefuseUnsupported(parse) is { } refusal)
        {
            // Rank 0 alone reports and fails: mpirun ends the job at the first non-zero exit, which could cut rank 0 short.
            if (Distributed.DistributedLaunch.AnnouncedWorld().Rank != 0) return Success;
            Console.Error.WriteLine($"error: {refusal}");
            return UserError;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return ReportError(e);
        }
    }

    /// <summary>
    /// Prints <paramref name="e"/> as the CLI reports failures (a user error's message, "cancelled.", or an internal error
    /// with its stack trace) after <paramref name="prefix"/>, and returns the matching exit code.
    /// </summary>
    public static int ReportError(Exception e, string prefix = "")
    {
        if (IsUserError(e))
        {
            // REWARDKIT_DEBUG=1 prints the stack trace too (for bug reports).
            Console.Error.WriteLine(prefix + (Environment.GetEnvironmentVariable("REWARDKIT_DEBUG") == "1" ? $"error: {e}" : $"error: {e.Message}"));
            return UserError;
        }
        if (e is OperationCanceledException)
        {
            Console.Error.WriteLine(prefix + "cancelled.");
            return UserError;
        }
        if (e is Distributed.CollectiveTimeoutException)
        {
            Console.Error.WriteLine(prefix + $"error: {e.Message}");
            return UserError;
        }
        Console.Error.WriteLine(prefix + $"internal error (please report it): {e}");
        return InternalError;
    }

    /// <summary>True for the exceptions that mean "the input is wrong" rather than "RewardKit is wrong".</summary>
    public static bool IsUserError(Exception e) =>
        e is UserErrorException or ArgumentException or FileNotFoundException or DirectoryNotFoundException
          or InvalidDataException or FormatException or UnauthorizedAccessException or RewardKit.Inference.NonFiniteRewardException
          or RewardKit.Models.Hub.HubException;
}

/// <summary>Thrown by commands when the user's input is wrong; the message names the argument or file and the fix.</summary>
public sealed class UserErrorException(string message, Exception? inner = null) : Exception(message, inner);
