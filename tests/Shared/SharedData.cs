namespace RewardKit.Testing;

/// <summary>
/// Finds <c>../shared</c> (the real preference sets, GPT-2 tokenizer files and PyTorch references) beside the
/// repository root, or at <c>REWARDKIT_SHARED</c>. Tests that need it use <see cref="SharedDataFactAttribute"/>,
/// which skips them with a visible reason when it is absent.
/// </summary>
public static class SharedData
{
    /// <summary>The repository root: the nearest ancestor of the test binaries holding RewardKit.slnx.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The shared folder, or null when it is absent.</summary>
    public static string? Directory { get; } = FindShared();

    /// <summary>The reason shown when a shared-data test is skipped.</summary>
    public const string MissingReason = "../shared is absent (set REWARDKIT_SHARED or clone with shared/ beside the repository); test skipped.";

    /// <summary>The full path of a file under the shared folder; throws when the folder is absent.</summary>
    public static string PathOf(string relative) =>
        System.IO.Path.Combine(Directory ?? throw new InvalidOperationException(MissingReason), relative);

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "RewardKit.slnx")))
                return dir.FullName;
        throw new InvalidOperationException("RewardKit.slnx not found above " + AppContext.BaseDirectory);
    }

    static string? FindShared()
    {
        var env = Environment.GetEnvironmentVariable("REWARDKIT_SHARED");
        if (!string.IsNullOrEmpty(env) && System.IO.Directory.Exists(env)) return env;
        var beside = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot, "..", "shared"));
        return System.IO.Directory.Exists(beside) ? beside : null;
    }
}

/// <summary>A fact that needs <c>../shared</c>; skipped with <see cref="SharedData.MissingReason"/> when it is absent.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (SharedData.Directory is null) Skip = SharedData.MissingReason;
    }
}

/// <summary>A theory that needs <c>../shared</c>; skipped with <see cref="SharedData.MissingReason"/> when it is absent.</summary>
public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute()
    {
        if (SharedData.Directory is null) Skip = SharedData.MissingReason;
    }
}
