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

[Collection(ConsoleCollection.Name)]
public class BenchServeOptionTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    public void Bench_serve_refuses_forward_threads_out_of_range_before_loading_anything(string threads)
    {
        var oldErr = Console.Error;
        using var e = new StringWriter();
        Console.SetError(e);
        try
        {
            Assert.Equal(CliApp.UserError, CliApp.Run(["bench", "serve", "--model", "no-such-folder", "--forward-threads", threads]));
        }
        finally { Console.SetError(oldErr); }
        Assert.Contains("--forward-threads", e.ToString());
    }
}
