using System.Text.Json.Serialization;
using System.Text.Json;
using RewardKit.IO;
using RewardKit.Models;
using RewardKit.Tensors.Safetensors;

namespace RewardKit.Rl;

/// <summary>The scalar state of an RL run at the end of a step (state.json of its checkpoint).</summary>
public sealed record RlState
{
    /// <summary>Steps done.</summary>
    [JsonPropertyName("step")] public long Step { get; set; }

    /// <summary>The algorithm (a checkpoint resumes only the same one).</summary>
    [JsonPropertyName("algo")] public string Algorithm { get; set; } = "";

    /// <summary>The run's seed (the data cursor and every RNG derive from it and the step).</summary>
    [JsonPropertyName("seed")] public ulong Seed { get; set; }

    /// <summary>β of the KL controller.</summary>
    [JsonPropertyName("kl_coef")] public double KlCoefficient { get; set; }

    /// <summary>REINFORCE's moving-average baseline.</summary>
    [JsonPropertyName("baseline")] public double? Baseline { get; set; }

    /// <summary>Optimiser steps of the policy and of the critic.</summary>
    [JsonPropertyName("updates")] public long[] Updates { get; set; } = [0, 0];

    /// <summary>The reward scaling's running statistics.</summary>
    [JsonPropertyName("reward_scaling")] public RewardScalingState RewardScaling { get; set; } = new();
}

/// <summary>
/// An RL checkpoint folder: state.json (<see cref="RlState"/>) and tensors.safetensors (policy, critic and both optimisers'
/// states), written to a temporary sibling and swapped in (<see cref="AtomicFile.ReplaceDirectory"/>), so a run killed at
/// any moment leaves the previous complete checkpoint.
/// </summary>
public static class RlCheckpoint
{
    /// <summary>The folder's name inside the run's output folder.</summary>
    public const string FolderName = "checkpoint";

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>What a checkpoint holds.</summary>
    /// <param name="State">Scalars.</param>
    /// <param name="Tensors">Named arrays: "policy", "critic", "policy_optimizer.*", "critic_optimizer.*".</param>
    public sealed record Contents(RlState State, IReadOnlyDictionary<string, float[]> Tensors);

    /// <summary>Writes the checkpoint atomically.</summary>
    public static void Save(string directory, Contents contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            SafetensorsWriter.Write(Path.Combine(temp, "tensors.safetensors"),
                contents.Tensors.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Key, new[] { t.Value.Length }, t.Value)));
            File.WriteAllText(Path.Combine(temp, "state.json"), JsonSerializer.Serialize(contents.State, Json));
            AtomicFile.ReplaceDirectory(temp, full);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>The checkpoint in <paramref name="directory"/>, or null when there is none.</summary>
    public static Contents? LoadIfPresent(string directory)
    {
        var state = Path.Combine(directory, "state.json");
        if (!File.Exists(state)) return null;
        try
        {
            var s = JsonSerializer.Deserialize<RlState>(File.ReadAllText(state), Json) ?? throw new InvalidDataException("empty state");
            var tensors = SafetensorsFile.ReadAllFloats(Path.Combine(directory, "tensors.safetensors")).ToDictionary(t => t.Key, t => t.Value.Values);
            return new Contents(s, tensors);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            throw new InvalidDataException($"{directory}: the RL checkpoint cannot be read ({e.Message}); delete the folder to start over, or run without --resume.", e);
        }
    }
}
