using System.Text.Json;

namespace RewardKit.Cli.Tests;

/// <summary>`rewardkit backbone`: its happy path and a bad input (exit 1 with a message saying what to fix).</summary>
[Collection(ConsoleCollection.Name)]
public sealed class BackboneCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-cli-backbone-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Backbone_list_names_the_packaged_encoders()
    {
        var run = ConsoleCapture.Run("backbone", "list");
        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("minilm", run.Out);
    }

    [Fact]
    public void Exporting_an_unknown_backbone_names_the_known_ones()
    {
        CliAssert.UserError(ConsoleCapture.Run("backbone", "export", "--name", "no-such-encoder", "--out", Path.Combine(_dir, "out")), "minilm");
    }
}
