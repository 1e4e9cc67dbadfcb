using System.Text.Json;
using RewardKit.IO;

namespace RewardKit.Training;

/// <summary>
/// A run's <c>metrics.jsonl</c>: one JSON object of named numbers per line (TRL's names: <c>step</c>, <c>loss</c>,
/// <c>grad_norm</c>, <c>learning_rate</c>, ...), flushed after every row so a killed run loses at most the line it was
/// writing. A resumed run keeps the rows its checkpoint had seen and drops the rest, so the file reads as if the run had
/// never stopped.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    readonly StreamWriter _writer;
    readonly Action<IReadOnlyDictionary<string, double>>? _observer;

    MetricsLog(string path, Action<IReadOnlyDictionary<string, double>>? observer)
    {
        Path = path;
        _observer = observer;
        _writer = new StreamWriter(path, append: true) { AutoFlush = true };
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens <paramref name="path"/> for a fresh run (<paramref name="keep"/> null: the file is emptied) or a resumed one
    /// (the rows <paramref name="keep"/> accepts stay, in order; the file is rewritten atomically). A last line that is not
    /// a complete JSON object (a run killed mid-write) is dropped; a damaged line before it is an error naming the line.
    /// </summary>
    /// <param name="path">The metrics file.</param>
    /// <param name="keep">Which existing rows a resumed run keeps, or null for a fresh run.</param>
    /// <param name="observer">Also receives every row written (e.g. <see cref="RewardTrainer.Metrics"/>).</param>
    public static MetricsLog Open(string path, Func<IReadOnlyDictionary<string, double>, bool>? keep,
        Action<IReadOnlyDictionary<string, double>>? observer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (keep is null || !File.Exists(path)) File.WriteAllText(path, "");
        else AtomicFile.WriteAllText(path, string.Concat(KeptLines(path, keep).Select(line => line + Environment.NewLine)));
        return new MetricsLog(path, observer);
    }

    /// <summary>Appends <paramref name="row"/> as one line and passes it to the observer.</summary>
    public void Write(Dictionary<string, double> row)
    {
        ArgumentNullException.ThrowIfNull(row);
        _writer.WriteLine(JsonSerializer.Serialize(row));
        _observer?.Invoke(row);
    }

    /// <inheritdoc/>
    public void Dispose() => _writer.Dispose();

    static List<string> KeptLines(string path, Func<IReadOnlyDictionary<string, double>, bool> keep)
    {
        var lines = File.ReadAllLines(path);
        var kept = new List<string>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            Dictionary<string, double>? row;
            try { row = JsonSerializer.Deserialize<Dictionary<string, double>>(lines[i]); }
            catch (JsonException) when (i == lines.Length - 1) { break; }   // the line a killed run was writing
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{i + 1}: not a metrics row ({e.Message}); delete the file or train without --resume.", e);
            }
            if (row is not null && keep(row)) kept.Add(lines[i]);
        }
        return kept;
    }
}
