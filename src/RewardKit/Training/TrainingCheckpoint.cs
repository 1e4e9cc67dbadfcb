using System.Text.Json.Serialization;
using System.Text.Json;
using RewardKit.IO;
using RewardKit.Models;
using RewardKit.Tensors.Safetensors;

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
    /// <summary>While the SFT warm start runs, where it is (its optimiser state is the checkpoint's); null once it has finished or without one.</summary>
    [JsonPropertyName("warm_start")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WarmStartState? WarmStart { get; set; }
}

/// <summary>Where the SFT warm start is (see <see cref="TrainingState.WarmStart"/>).</summary>
public sealed record WarmStartState
{
    /// <summary>SFT steps completed.</summary>
    [JsonPropertyName("step")] public long Step { get; set; }
    /// <summary>The epoch the SFT data cursor is in (0-based).</summary>
    [JsonPropertyName("epoch")] public int Epoch { get; set; }
    /// <summary>Index of the next batch of the SFT epoch's batch plan.</summary>
    [JsonPropertyName("batch_cursor")] public int BatchCursor { get; set; }
}

/// <summary>
/// <c>OUT/checkpoint/</c>: <c>state.json</c>, <c>tensors.safetensors</c> (parameters, AdamW moments, best parameters) and the
/// trained BPE tokenizer of a GPT-2 run (a backbone run has none: its WordPiece vocabulary is the backbone's, read again on resume). Written into a temporary sibling folder with every file flushed to disk, then renamed over the old one, so a
/// crash leaves either the old or the new checkpoint, never a partial one.
/// </summary>
internal static class TrainingCheckpoint
{
    public const string StateFile = "state.json";
    public const string TensorsFile = "tensors.safetensors";
    public const string TokenizerFolder = "tokenizer";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>What a checkpoint holds; <paramref name="Optimizer"/> is the state of the optimiser of the current phase (the SFT warm start's while <see cref="TrainingState.WarmStart"/> is set).</summary>
    public sealed record Contents(TrainingState State, float[] Parameters, IReadOnlyDictionary<string, float[]> Optimizer, float[]? Best);

    /// <summary>Writes the checkpoint atomically, with <paramref name="tokenizer"/> when there is one; <paramref name="beforeRename"/> is a test hook (it may throw).</summary>
    public static void Save(string directory, Contents contents, Text.ByteLevelBpeTokenizer? tokenizer, Action? beforeRename = null)
    {
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            var tensors = new List<(string, int[], float[])> { ("parameters", [contents.Parameters.Length], contents.Parameters) };
            foreach (var (name, values) in contents.Optimizer.OrderBy(k => k.Key, StringComparer.Ordinal))
                tensors.Add(("optimizer." + name, [values.Length], values));
            if (contents.Best is { } best) tensors.Add(("best_parameters", [best.Length], best));
            var tensorPath = Path.Combine(temp, TensorsFile);
            SafetensorsWriter.Write(tensorPath, tensors);
            var statePath = Path.Combine(temp, StateFile);
            File.WriteAllText(statePath, JsonSerializer.Serialize(contents.State, Json));
            tokenizer?.Save(Path.Combine(temp, TokenizerFolder));
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

    /// <summary>
    /// Makes <paramref name="outputDirectory"/> consistent after a crash, before a run starts: a checkpoint replacement
    /// killed between its two renames (<see cref="AtomicFile.ReplaceDirectory"/> moves the old folder to
    /// <c>checkpoint.tmp-ID.old</c>, then the finished <c>checkpoint.tmp-ID</c> to <c>checkpoint</c>) is completed; then
    /// every temporary sibling a killed write left behind (<c>checkpoint.tmp-*</c>, <c>model.tmp-*</c> (or <paramref name="modelFolder"/>),
    /// <c>metrics.jsonl.*.tmp</c>) is deleted. Returns a line per repair, for the log.
    /// </summary>
    public static List<string> Tidy(string outputDirectory, string checkpointDirectory, string modelFolder = "model")
    {
        var said = new List<string>();
        var checkpoint = Path.GetFullPath(checkpointDirectory).TrimEnd(Path.DirectorySeparatorChar);
        if (!Directory.Exists(checkpoint))
            foreach (var old in Directory.GetDirectories(outputDirectory, Path.GetFileName(checkpoint) + ".tmp-*.old"))
            {
                var staged = old[..^".old".Length];
                if (!Exists(staged)) continue;
                Directory.Move(staged, checkpoint);
                said.Add($"completed the checkpoint replacement a stopped run left half done ({Path.GetFileName(staged)} -> {Path.GetFileName(checkpoint)})");
                break;
            }
        string[] patterns = [Path.GetFileName(checkpoint) + ".tmp-*", modelFolder + ".tmp-*"];
        foreach (var pattern in patterns)
            foreach (var stale in Directory.GetDirectories(outputDirectory, pattern))
            {
                Directory.Delete(stale, recursive: true);
                said.Add($"removed {Path.GetFileName(stale)}, a temporary folder of a stopped run");
            }
        foreach (var stale in Directory.GetFiles(outputDirectory, RewardTrainer.MetricsFileName + ".*.tmp"))
        {
            File.Delete(stale);
            said.Add($"removed {Path.GetFileName(stale)}, a temporary file of a stopped run");
        }
        return said;
    }

    /// <summary>The checkpoint in <paramref name="directory"/>, or null when there is none yet.</summary>
    public static Contents? LoadIfPresent(string directory)
    {
        var statePath = Path.Combine(directory, StateFile);
        if (!File.Exists(statePath)) return null;
        TrainingState state;
        try
        {
            state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(statePath)) ?? throw new InvalidDataException($"{statePath}: empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{statePath}: {e.Message}; the checkpoint is damaged (delete {directory} and train again).", e);
        }
        var tensors = SafetensorsFile.ReadAllFloats(Path.Combine(directory, TensorsFile));
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
