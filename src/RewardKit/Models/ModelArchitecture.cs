using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;

namespace RewardKit.Models;

/// <summary>
/// What a model folder holds, as its rewardkit.json says: <c>architecture</c> (how the reward is computed; <c>concat</c>,
/// one GPT-2 over prompt + response, when absent) and, for an adapter folder, <c>adapter</c> (<c>lora</c>). Loaders check
/// it and refuse a folder they cannot read with a message saying what it is and what to do.
/// </summary>
public static class ModelArchitecture
{
    /// <summary>The rewardkit.json key of the architecture.</summary>
    public const string Key = "architecture";

    /// <summary>The rewardkit.json key of an adapter folder's adapter kind.</summary>
    public const string AdapterKey = "adapter";

    /// <summary>One GPT-2 over the concatenated prompt and response (the default).</summary>
    public const string Concat = "concat";

    /// <summary>Prompt and response encoded apart by one GPT-2 backbone and fused (<see cref="Separate.SeparateEncoderRewardModel"/>).</summary>
    public const string Separate = "separate";

    /// <summary>A LoRA adapter folder (PEFT layout) over a base model.</summary>
    public const string LoraAdapter = "lora";

    /// <summary>The architecture <paramref name="metadata"/> records (<see cref="Concat"/> when none).</summary>
    public static string Of(RewardModelMetadata metadata) => Read(metadata, Key) ?? Concat;

    /// <summary>The adapter kind <paramref name="metadata"/> records, or null for a full model.</summary>
    public static string? AdapterOf(RewardModelMetadata metadata) => Read(metadata, AdapterKey);

    /// <summary>Records <paramref name="architecture"/> (and <paramref name="adapter"/>, when given) in <paramref name="metadata"/>.</summary>
    public static void Set(RewardModelMetadata metadata, string architecture, string? adapter = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        metadata.Extra ??= [];
        metadata.Extra[Key] = JsonSerializer.SerializeToElement(architecture);
        if (adapter is null) metadata.Extra.Remove(AdapterKey);
        else metadata.Extra[AdapterKey] = JsonSerializer.SerializeToElement(adapter);
    }

    /// <summary>
    /// Throws an <see cref="InvalidDataException"/> naming <paramref name="directory"/> when its metadata records another
    /// architecture than <paramref name="expected"/>, or an adapter other than <paramref name="adapter"/>.
    /// </summary>
    public static void Require(RewardModelMetadata metadata, string directory, string expected, string? adapter = null)
    {
        var architecture = Of(metadata);
        var file = Path.Combine(directory, RewardModelMetadata.FileName);
        if (architecture != expected)
            throw new InvalidDataException($"{file}: this folder holds a '{architecture}' reward model, but it was opened as '{expected}'; "
                + "pass a folder of the expected kind (or a newer RewardKit that knows this architecture).");
        var actualAdapter = AdapterOf(metadata);
        if (actualAdapter == adapter) return;
        throw new InvalidDataException(actualAdapter is null
            ? $"{file}: this folder is a full model, not a {adapter} adapter; pass the adapter folder (OUT/model of `rewardkit train --lora-r ...`)."
            : $"{file}: this folder is a {actualAdapter} adapter, not a full model; score, eval and serve read it as it is, or write a full model with `rewardkit merge-lora --adapter {directory} --out DIR`.");
    }

    static string? Read(RewardModelMetadata metadata, string key) =>
        metadata.Extra is { } extra && extra.TryGetValue(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The file that makes a folder a PEFT LoRA adapter.</summary>
    public const string LoraAdapterConfigFileName = "adapter_config.json";

    /// <summary>True when <paramref name="directory"/> holds a LoRA adapter (its <c>adapter_config.json</c>) rather than a full model.</summary>
    public static bool IsLoraAdapter(string directory) => File.Exists(Path.Combine(directory, LoraAdapterConfigFileName));
}
