using RewardKit.IO;
using RewardKit.Inference.Registry;
using RewardKit.Inference;

namespace RewardKit.Tests.Inference.Registry;

public class ModelRegistryTests
{
    [Fact]
    public void Push_list_promote_and_rollback_move_the_pointer_between_versions()
    {
        using var temp = new TempDirectory();
        var registry = new ModelRegistry(temp["registry"]);
        var v1 = registry.Push(FakeRewardModel.WriteFolder(temp["m1"], name: "rm", bias: 1));
        var v2 = registry.Push(FakeRewardModel.WriteFolder(temp["m2"], name: "rm", bias: 2));
        Assert.Equal(("rm", "v1"), (v1.Name, v1.Version));
        Assert.Equal("v2", v2.Version);
        Assert.Equal(["v1", "v2"], registry.List("rm").Select(e => e.Version));
        Assert.Null(registry.PointerOf("rm"));

        registry.Promote("rm", "v1");
        registry.Promote("rm", "v2");
        Assert.Equal("v2", registry.OpenPromoted("rm").Version);
        Assert.True(registry.List().Single(e => e.Version == "v2").Promoted);
        Assert.Equal(2.0, RewardModelMetadata.Load(registry.OpenPromoted("rm").Directory).Extra!["fake_bias"].GetDouble());

        registry.Rollback("rm");
        Assert.Equal("v1", registry.OpenPromoted("rm").Version);
        var e = Assert.Throws<ArgumentException>(() => registry.Rollback("rm"));
        Assert.Contains("nothing to roll back", e.Message);
    }

    [Fact]
    public void A_version_whose_file_was_changed_is_refused_naming_the_file()
    {
        using var temp = new TempDirectory();
        var registry = new ModelRegistry(temp["registry"]);
        var entry = registry.Push(FakeRewardModel.WriteFolder(temp["m"], name: "rm"));
        File.AppendAllText(Path.Combine(entry.Directory, "model.safetensors"), "tampered");
        var e = Assert.Throws<InvalidDataException>(() => registry.Promote("rm", "v1"));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("checksum mismatch", e.Message);
        Assert.Null(registry.PointerOf("rm"));
    }

    [Fact]
    public void Missing_and_added_files_are_refused()
    {
        using var temp = new TempDirectory();
        var registry = new ModelRegistry(temp["registry"]);
        var entry = registry.Push(FakeRewardModel.WriteFolder(temp["m"], name: "rm"));
        File.WriteAllText(Path.Combine(entry.Directory, "extra.bin"), "x");
        Assert.Contains("not listed", Assert.Throws<InvalidDataException>(() => registry.Verify("rm", "v1")).Message);
        File.Delete(Path.Combine(entry.Directory, "extra.bin"));
        File.Delete(Path.Combine(entry.Directory, "model.safetensors"));
        Assert.Contains("missing", Assert.Throws<InvalidDataException>(() => registry.Verify("rm", "v1")).Message);
    }

    [Fact]
    public void Push_leaves_no_temp_folder_and_refuses_an_existing_version()
    {
        using var temp = new TempDirectory();
        var registry = new ModelRegistry(temp["registry"]);
        var folder = FakeRewardModel.WriteFolder(temp["m"], name: "rm");
        registry.Push(folder, version: "prod-1");
        var e = Assert.Throws<ArgumentException>(() => registry.Push(folder, version: "prod-1"));
        Assert.Contains("already exists", e.Message);
        Assert.Equal(["prod-1"], Directory.GetDirectories(temp["registry/rm"]).Select(Path.GetFileName));
        Assert.Equal(3, RegistryManifest.Load(temp["registry/rm/prod-1"]).Files.Count + 1); // rewardkit.json, weights (+ manifest)
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData(".hidden")]
    public void Unsafe_names_are_refused(string name)
    {
        using var temp = new TempDirectory();
        var registry = new ModelRegistry(temp["registry"]);
        Assert.Throws<ArgumentException>(() => registry.Push(FakeRewardModel.WriteFolder(temp["m"]), name: name));
    }
}
