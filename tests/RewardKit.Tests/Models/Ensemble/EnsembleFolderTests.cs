using System.Text.Json;
using RewardKit.IO;
using RewardKit.Models.Ensemble;
using RewardKit.Testing;

namespace RewardKit.Tests.Models.Ensemble;

public sealed class EnsembleFolderTests
{
    [Fact]
    public void Save_copies_every_member_into_a_subfolder_and_says_what_the_folder_is()
    {
        using var temp = new TempDirectory();
        var a = FakeRewardModel.WriteFolder(temp["a"], name: "a");
        var b = FakeRewardModel.WriteFolder(temp["b"], name: "b", bias: 1);

        var metadata = EnsembleFolder.Save([a, b], [42, 43], temp["out"], new RewardModelMetadata { Name = "out" });

        Assert.True(EnsembleFolder.IsEnsemble(temp["out"]));
        Assert.False(EnsembleFolder.IsEnsemble(a));
        var saved = RewardModelMetadata.Load(temp["out"]);
        Assert.Equal("ensemble", saved.Extra!["architecture"].GetString());
        Assert.Equal(["member-0", "member-1"], saved.Extra["ensemble_members"].EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([42UL, 43UL], saved.Extra["ensemble_seeds"].EnumerateArray().Select(e => e.GetUInt64()));
        Assert.Equal(EnsembleFolder.VersionOf([RewardModelMetadata.Load(a).Version, RewardModelMetadata.Load(b).Version]), saved.Version);
        Assert.Equal(metadata.Version, saved.Version);
        Assert.Equal([temp["out/member-0"], temp["out/member-1"]], EnsembleFolder.MemberDirectories(temp["out"], saved));
        Assert.Empty(Directory.GetDirectories(temp.Path, "out.tmp-*"));
    }

    [Theory]
    [InlineData("[\"member-0\", \"../a\"]", "not a subfolder name")]
    [InlineData("[\"member-0\", \"member-7\"]", "does not exist")]
    [InlineData("[\"member-0\"]", "at least 2")]
    [InlineData("\"member-0\"", "ensemble_members")]
    public void A_member_list_that_leaves_the_folder_misses_a_member_or_is_too_short_is_refused_naming_rewardkit_json(string members, string expected)
    {
        using var temp = new TempDirectory();
        var a = FakeRewardModel.WriteFolder(temp["a"], name: "a");
        EnsembleFolder.Save([a, a], [1, 2], temp["out"], new RewardModelMetadata { Name = "out" });
        var metadata = RewardModelMetadata.Load(temp["out"]);
        metadata.Extra![EnsembleFolder.MembersKey] = JsonDocument.Parse(members).RootElement.Clone();

        var e = Assert.Throws<InvalidDataException>(() => EnsembleFolder.MemberDirectories(temp["out"], metadata));
        Assert.Contains("rewardkit.json", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
