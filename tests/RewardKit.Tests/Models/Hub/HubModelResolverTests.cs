using RewardKit.Models;
using RewardKit.Models.Hub;

namespace RewardKit.Tests.Models.Hub;

/// <summary>Hub ids resolved against a stub Hub on loopback (no test touches the internet).</summary>
public sealed class HubModelResolverTests : IDisposable
{
    const string Commit = "0123456789abcdef0123456789abcdef01234567";
    readonly string _dir = Directory.CreateTempSubdirectory("rk-hub-").FullName;
    readonly StubHub _hub = new();
    readonly string _model;

    public HubModelResolverTests()
    {
        _model = Path.Combine(_dir, "source");
        var config = new GptConfig { Layers = 1, EmbeddingSize = 8, Heads = 2, Positions = 8, VocabSize = 16, EosTokenId = 15 };
        RewardModelFolder.Save(GptRewardModel.Create(config, seed: 3), _model);
        File.WriteAllText(Path.Combine(_model, "merges.txt"), "#version: 0.2\n");
        _hub.Add("org/tiny-rm", "main", Commit, _model);
    }

    public void Dispose()
    {
        _hub.Dispose();
        Directory.Delete(_dir, true);
    }

    HubModelResolver Resolver(bool offline = false, string? token = null) =>
        new(new HubSettings(_hub.Endpoint, Path.Combine(_dir, "hub"), token, offline));

    string CacheRoot => Path.Combine(_dir, "hub", "models--org--tiny-rm");

    [Fact]
    public void An_id_is_fetched_into_the_Hugging_Face_cache_layout_and_loads_like_the_folder()
    {
        using var resolver = Resolver();
        var folder = resolver.Resolve("org/tiny-rm");

        Assert.Equal(Path.Combine(CacheRoot, "snapshots", Commit), folder);
        Assert.Equal(Commit, File.ReadAllText(Path.Combine(CacheRoot, "refs", "main")));
        var weights = new FileInfo(Path.Combine(folder, "model.safetensors"));
        Assert.Equal($"../../blobs/{StubHub.Sha256(File.ReadAllBytes(Path.Combine(_model, "model.safetensors")))}", weights.LinkTarget);
        foreach (var file in Directory.GetFiles(_model))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(folder, Path.GetFileName(file))));
        Assert.False(File.Exists(Path.Combine(folder, "vocab.txt")));   // absent on the Hub: skipped, not an error

        var (fromHub, _) = RewardModelFolder.Load(folder);
        var (local, _) = RewardModelFolder.Load(_model);
        Assert.Equal(local.Parameters.Values.ToArray(), fromHub.Parameters.Values.ToArray());
    }

    [Fact]
    public void A_cached_model_is_not_downloaded_again_and_offline_mode_uses_only_the_cache()
    {
        using (var resolver = Resolver()) resolver.Resolve("org/tiny-rm");
        var gets = _hub.Requests.Count(r => r.StartsWith("GET", StringComparison.Ordinal));
        using (var resolver = Resolver()) resolver.Resolve("org/tiny-rm");
        Assert.Equal(gets, _hub.Requests.Count(r => r.StartsWith("GET", StringComparison.Ordinal)));

        var before = _hub.Requests.Count;
        using (var offline = Resolver(offline: true))
        {
            Assert.Equal(Path.Combine(CacheRoot, "snapshots", Commit), offline.Resolve("org/tiny-rm"));
            Assert.Equal(Path.Combine(CacheRoot, "snapshots", Commit), offline.Resolve($"org/tiny-rm@{Commit}"));
            var e = Assert.Throws<HubException>(() => offline.Resolve("org/other"));
            Assert.Contains("HF_HUB_OFFLINE", e.Message);
        }
        Assert.Equal(before, _hub.Requests.Count);
    }

    [Fact]
    public void A_revision_after_the_at_sign_is_resolved_and_recorded_under_refs()
    {
        _hub.Add("org/tiny-rm", "v1.0", Commit, _model);
        using var resolver = Resolver();
        resolver.Resolve("org/tiny-rm@v1.0");
        Assert.Equal(Commit, File.ReadAllText(Path.Combine(CacheRoot, "refs", "v1.0")));
        Assert.Contains(_hub.Requests, r => r.StartsWith("HEAD /org/tiny-rm/resolve/v1.0/config.json", StringComparison.Ordinal));
    }

    [Fact]
    public void A_partial_download_resumes_with_a_range_request()
    {
        var weights = File.ReadAllBytes(Path.Combine(_model, "model.safetensors"));
        var blobs = Directory.CreateDirectory(Path.Combine(CacheRoot, "blobs")).FullName;
        File.WriteAllBytes(Path.Combine(blobs, StubHub.Sha256(weights) + ".incomplete"), weights[..100]);

        using var resolver = Resolver();
        var folder = resolver.Resolve("org/tiny-rm");

        Assert.Contains(_hub.Requests, r => r.StartsWith("GET /storage/", StringComparison.Ordinal) && r.EndsWith("bytes=100-", StringComparison.Ordinal));
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        Assert.Empty(Directory.GetFiles(blobs, "*.incomplete"));
    }

    [Fact]
    public void A_corrupted_download_is_refused_by_its_sha256_and_removed()
    {
        _hub.Corrupt = (file, bytes) => { var copy = (byte[])bytes.Clone(); copy[^1] ^= 1; return copy; };
        using var resolver = Resolver();
        var e = Assert.Throws<HubException>(() => resolver.Resolve("org/tiny-rm"));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("sha256", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(CacheRoot, "blobs"), "*.incomplete"));

        _hub.Corrupt = null;   // the next run fetches it cleanly
        Assert.True(File.Exists(Path.Combine(resolver.Resolve("org/tiny-rm"), "model.safetensors")));
    }

    [Fact]
    public void A_gated_model_needs_HF_TOKEN_and_the_token_is_sent()
    {
        _hub.RequiredToken = "hf_secret";
        using (var anonymous = Resolver())
            Assert.Contains("HF_TOKEN", Assert.Throws<HubException>(() => anonymous.Resolve("org/tiny-rm")).Message);
        using var authorised = Resolver(token: "hf_secret");
        Assert.True(Directory.Exists(authorised.Resolve("org/tiny-rm")));
    }

    [Fact]
    public void Folders_win_over_ids_and_a_missing_path_that_is_no_id_says_so()
    {
        using var resolver = Resolver();
        Assert.Equal(_model, resolver.Resolve(_model));
        Assert.Contains("no such model folder", Assert.Throws<DirectoryNotFoundException>(() => resolver.Resolve(Path.Combine(_dir, "nope"))).Message);
        Assert.Contains("no such local folder", Assert.Throws<HubException>(() => resolver.Resolve("org/missing")).Message);
        Assert.DoesNotContain(_hub.Requests, r => r.Contains("tiny-rm", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("gpt2", true)]
    [InlineData("openai-community/gpt2", true)]
    [InlineData("org/name@v1.0", true)]
    [InlineData("./run/model", false)]
    [InlineData("/abs/model", false)]
    [InlineData("a/b/c", false)]
    public void Hub_ids_have_the_Hubs_shape(string text, bool isId) => Assert.Equal(isId, HubModelResolver.IsHubId(text));

    [Fact]
    public void Settings_follow_the_Hugging_Face_environment_variables()
    {
        var s = HubSettings.FromEnvironment(new Dictionary<string, string?>
        {
            ["HF_HOME"] = "/h", ["HF_ENDPOINT"] = "http://mirror/", ["HF_TOKEN"] = "t", ["HF_HUB_OFFLINE"] = "1",
        });
        Assert.Equal(new HubSettings("http://mirror", "/h/hub", "t", true), s);
        Assert.Equal("/c", HubSettings.FromEnvironment(new Dictionary<string, string?> { ["HF_HUB_CACHE"] = "/c" }).CacheDirectory);
        Assert.False(HubSettings.FromEnvironment(new Dictionary<string, string?>()).Offline);
    }
}
