namespace RewardKit.Cli.Tests;

public class CliAppTests
{
    [Fact]
    public void An_unknown_verb_is_a_user_error()
    {
        Assert.Equal(CliApp.UserError, CliApp.Run(["no-such-verb"]));
    }

    [Fact]
    public void Help_succeeds()
    {
        Assert.Equal(CliApp.Success, CliApp.Run(["--help"]));
    }
}
