using Spectre.Console;

namespace RewardKit.Cli.Tests;

/// <summary>
/// Tests that redirect <see cref="Console.Out"/> or <see cref="Console.Error"/> (process-wide) run one at a time,
/// so one test never reads another's output or restores the wrong writer.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console redirection";
}

/// <summary>Runs the CLI in-process with stdout, stderr and Spectre's static console captured (tests in <see cref="ConsoleCollection"/>).</summary>
static class CliCapture
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr, oldAnsi) = (Console.Out, Console.Error, AnsiConsole.Console);
        using var o = new StringWriter();
        using var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        // Spectre's static console (train's progress) keeps the writer it first saw: point it at this capture, then back.
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(o), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        try
        {
            return (CliApp.Run(args), o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
            AnsiConsole.Console = oldAnsi;
        }
    }
}
