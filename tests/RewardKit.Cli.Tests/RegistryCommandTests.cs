using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary>`rewardkit registry`: its happy path and a bad input (exit 1 with a message saying what to fix).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class RegistryCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-registry-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Push_promote_list_and_rollback_move_the_served_version()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        var registry = Path.Combine(_dir, "registry");
        foreach (var version in new[] { "v1", "v2" })
            Assert.Equal(0, ConsoleCapture.Run("registry", "push", "--registry", registry, "--model", model, "--name", "rm", "--version", version).Code);
        Assert.Equal(0, ConsoleCapture.Run("registry", "promote", "--registry", registry, "rm", "v1").Code);
        Assert.Equal(0, ConsoleCapture.Run("registry", "promote", "--registry", registry, "rm", "v2").Code);
        Assert.Contains("* rm", ConsoleCapture.Run("registry", "list", "--registry", registry).Out.Split('\n').Single(l => l.Contains("v2", StringComparison.Ordinal)));
        var back = ConsoleCapture.Run("registry", "rollback", "--registry", registry, "rm");
        Assert.True(back.Code == 0, back.Err);
        Assert.Contains("rolled back rm to v1", back.Out);
    }

    [Fact]
    public void Promoting_an_unknown_version_is_refused_with_its_name()
    {
        var (model, _) = TinyModelFolders.RewardModel(_dir);
        var registry = Path.Combine(_dir, "registry");
        Assert.Equal(0, ConsoleCapture.Run("registry", "push", "--registry", registry, "--model", model, "--name", "rm", "--version", "v1").Code);
        CliAssert.UserError(ConsoleCapture.Run("registry", "promote", "--registry", registry, "rm", "v9"), "v9");
    }
}
