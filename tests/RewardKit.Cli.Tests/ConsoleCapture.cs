namespace RewardKit.Cli.Tests;

/// <summary>Runs the CLI with <see cref="Console.Out"/> and <see cref="Console.Error"/> captured (use inside <see cref="ConsoleCollection"/>).</summary>
public static class ConsoleCapture
{
    /// <summary>Runs <c>rewardkit ARGS</c> and returns its exit code, standard output and standard error.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var o = new StringWriter();
        using var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            var code = CliApp.Run(args);
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
