namespace RewardKit.Cli.Tests;

/// <summary>Assertions shared by the CLI tests.</summary>
static class CliAssert
{
    /// <summary>A user error: exit 1, no stack trace, no "internal error", and a message that contains every <paramref name="expected"/> text.</summary>
    public static void UserError((int Code, string Out, string Err) run, params string[] expected)
    {
        Assert.True(run.Code == CliApp.UserError, $"exit {run.Code}\n{run.Out}\n{run.Err}");
        Assert.DoesNotContain("   at ", run.Err);
        Assert.DoesNotContain("internal error", run.Err);
        foreach (var text in expected) Assert.Contains(text, run.Out + run.Err);
    }
}
