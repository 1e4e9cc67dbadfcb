using System.Text;
using RewardKit.Data;

namespace RewardKit.Tests.DataFormats;

/// <summary>Temporary preference files for the data tests; deleted with the instance.</summary>
public sealed class DataFiles : IDisposable
{
    /// <summary>The folder holding this instance's files.</summary>
    public string Dir { get; } = Directory.CreateTempSubdirectory("rk-data-").FullName;

    public string Write(string text, string ext = ".jsonl") => WriteBytes(Encoding.UTF8.GetBytes(text), ext);

    public string WriteBytes(byte[] bytes, string ext = ".jsonl")
    {
        var path = Path.Combine(Dir, Guid.NewGuid().ToString("N")[..8] + ext);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public string PathFor(string name) => Path.Combine(Dir, name);

    public static List<PreferenceRecord> ReadAll(string path, ReaderOptions? options = null) =>
        new PreferenceReader(path, options).ReadRecords().ToList();

    /// <summary>Reads <paramref name="path"/> and returns the error the first bad record raised.</summary>
    public static InvalidDataException Fails(string path) =>
        Assert.Throws<InvalidDataException>(() => ReadAll(path));

    public void Dispose()
    {
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}
