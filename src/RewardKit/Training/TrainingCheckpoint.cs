using RewardKit.Inference.Registry;
using System.Text.Json;
using System.Text.Json.Serialization;
using RewardKit.Models;

namespace RewardKit.Training;

/// <summary>
/// Everything a run needs to continue bit-identically, besides the tensors: counters, RNG states, the data-order position
/// and the early-stopping state. Stored as <c>state.json</c> in <c>OUT/checkpoint/</c>.
/// </summary>
public sealed record TrainingState
{
    /// <summary>Optimiser steps completed.</summary>
    [JsonPropertyName("step")] public long Step { get; set; }
    /// <summary>The epoch the data cursor is in (0-based).</summary>
    [JsonPropertyName("epoch")] public int Epoch { get; set; }
    /// <summary>Index of the next batch of the epoch's batch plan.</summary>
    [JsonPropertyName("batch_cursor")] public int BatchCursor { get; set; }
    /// <summary>The dropout RNG's state.</summary>
    [JsonPropertyName("dropout_rng")] public ulong[] DropoutRng { get; set; } = [];
    /// <summary>The best value of the best metric so far (null before the first evaluation).</summary>
    [JsonPropertyName("best_metric")] public double? BestMetric { get; set; }
    /// <summary>The step at which <see cref="BestMetric"/> was reached.</summary>
    [JsonPropertyName("best_step")] public long BestStep { get; set; }
    /// <summary>Evaluations since the best one (for patience).</summary>
    [JsonPropertyName("evaluations_without_improvement")] public int EvaluationsWithoutImprovement { get; set; }
    /// <summary>sha256 of the training file, checked on resume.</summary>
    [JsonPropertyName("train_data_sha256")] public string TrainDataSha256 { get; set; } = "";
    /// <summary>The options YAML of the run, for the record.</summary>
    [JsonPropertyName("options_yaml")] public string OptionsYaml { get; set; } = "";
}

/// <summary>
/// <c>OUT/checkpoint/</c>: <c>state.json</c>, <c>tensors.safetensors</c> (parameters, AdamW moments, best parameters) and the
/// tokenizer. Written into a temporary sibling folder with every file flushed to disk, then renamed over the old one, so a
/// crash leaves either the old or the new checkpoint, never a partial one.
/// </summary>
internal static class TrainingCheckpoint
{
    public const string StateFile = "state.json";
    public const string TensorsFile = "tensors.safetensors";
    public const string TokenizerFolder = "tokenizer";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public sealed record Contents(TrainingState State, float[] Parameters, IReadOnlyDictionary<string, float[]> Optimizer, float[]? Best);

    /// <summary>Writes the checkpoint atomically; <paramref name="beforeRename"/> is a test hook (it may throw).</summary>
    public static void Save(string directory, Contents contents, Text.ByteLevelBpeTokenizer tokenizer, Action? beforeRename = null)
    {
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        // A save killed before its rename (e.g. mpirun's SIGKILL after SIGTERM) leaves its temporary folder: remove it.
        foreach (var stale in Directory.Exists(Path.GetDirectoryName(full)) ? Directory.GetDirectories(Path.GetDirectoryName(full)!, Path.GetFileName(full) + ".tmp-*") : [])
            Directory.Delete(stale, recursive: true);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            var tensors = new List<(string, int[], float[])> { ("parameters", [contents.Parameters.Length], contents.Parameters) };
            foreach (var (name, values) in contents.Optimizer.OrderBy(k => k.Key, StringComparer.Ordinal))
                tensors.Add(("optimizer." + name, [values.Length], values));
            if (contents.Best is { } best) tensors.Add(("best_parameters", [best.Length], best));
            var tensorPath = Path.Combine(temp, TensorsFile);
            SafetensorsFile.Write(tensorPath, tensors);
            var statePath = Path.Combine(temp, StateFile);
            File.WriteAllText(statePath, JsonSerializer.Serialize(contents.State, Json));
            var tokenizerDir = Path.Combine(temp, TokenizerFolder);
            tokenizer.Save(tokenizerDir);
            foreach (var file in Directory.EnumerateFiles(temp, "*", SearchOption.AllDirectories)) Fsync(file);
            beforeRename?.Invoke();
            AtomicFile.ReplaceDirectory(temp, full);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, StateFile));

    public static Contents Load(string directory)
    {
        var statePath = Path.Combine(directory, StateFile);
        if (!File.Exists(statePath))
            throw new FileNotFoundException($"{statePath}: no checkpoint to resume from; run without --resume to start a new run.", statePath);
        TrainingState state;
        try
        {
            state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(statePath)) ?? throw new InvalidDataException($"{statePath}: empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{statePath}: {e.Message}; the checkpoint is damaged (delete {directory} and train again).", e);
        }
        var tensors = SafetensorsFile.Read(Path.Combine(directory, TensorsFile));
        var parameters = tensors.TryGetValue("parameters", out var p) ? p.Values
            : throw new InvalidDataException($"{Path.Combine(directory, TensorsFile)}: no 'parameters' tensor; the checkpoint is damaged.");
        var optimizer = tensors.Where(t => t.Key.StartsWith("optimizer.", StringComparison.Ordinal))
            .ToDictionary(t => t.Key["optimizer.".Length..], t => t.Value.Values);
        float[]? best = tensors.TryGetValue("best_parameters", out var b) ? b.Values : null;
        return new Contents(state, parameters, optimizer, best);
    }

    static void Fsync(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        stream.Flush(flushToDisk: true);
    }
}
