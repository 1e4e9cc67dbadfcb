using Spectre.Console;

namespace RewardKit.Cli.Tests;

/// <summary>
/// Runs the CLI in-process with <see cref="Console.Out"/>, <see cref="Console.Error"/> and Spectre's static console
/// captured (use inside <see cref="ConsoleCollection"/>: the redirection is process-wide).
/// </summary>
public static class ConsoleCapture
{
    /// <summary>Runs <c>rewardkit ARGS</c> and returns its exit code, standard output and standard error.</summary>
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
