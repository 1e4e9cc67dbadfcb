namespace RewardKit.IO;

/// <summary>Writes files so that readers see either the old or the new content, never a partial file.</summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="text"/> to a temp file beside <paramref name="path"/>, flushes it and renames it over.</summary>
    public static void WriteAllText(string path, string text)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(text);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Lets <paramref name="write"/> fill a temp file beside <paramref name="path"/>, flushes it and renames it over.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Puts the finished folder <paramref name="staged"/> in place of <paramref name="target"/>: the old folder is moved
    /// aside, the staged one renamed in, then the old one deleted, so <paramref name="target"/> is never a mix of both.
    /// </summary>
    public static void ReplaceDirectory(string staged, string target)
    {
        string? old = null;
        if (Directory.Exists(target)) { old = staged + ".old"; Directory.Move(target, old); }
        Directory.Move(staged, target);
        if (old is not null) Directory.Delete(old, recursive: true);
    }
}
