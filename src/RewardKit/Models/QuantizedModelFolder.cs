using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.Json;
using RewardKit.IO;
using RewardKit.Models.Quantization;
using Engine = RewardKit.Tensors.Safetensors;

namespace RewardKit.Models;

/// <summary>
/// An int8 model folder: a normal model folder (Hugging Face opens it as it is) whose <c>model.safetensors</c> holds the
/// dequantised Conv1D weights (s·q, so every float reader computes the weight-quantised model), plus
/// <c>model.int8.safetensors</c> with, per quantised layer, <c>NAME</c> (I8, Conv1D layout [in, out]) and
/// <c>NAME_scale</c> (F32, [out]): W[i, o] = NAME[i, o] · NAME_scale[o]. <c>rewardkit.json</c> gains a
/// <c>quantization</c> object naming the scheme, the file and its sha256, the layers, the source version and the measured cost.
/// <see cref="RewardModelFolder.Load"/> sees that object and scores through <see cref="QuantizedConv1D"/>.
/// </summary>
public static class QuantizedModelFolder
{
    /// <summary>The int8 weights file inside a quantised model folder.</summary>
    public const string Int8WeightsFileName = "model.int8.safetensors";

    /// <summary>The <c>rewardkit.json</c> key of the quantisation record.</summary>
    public const string MetadataKey = "quantization";

    /// <summary>The scheme name written into the record.</summary>
    public const string Scheme = "int8-weight-per-output-channel-symmetric";

    /// <summary>Suffix of the per-channel scale tensor of a layer.</summary>
    public const string ScaleSuffix = "_scale";

    /// <summary>Files of a model folder that <see cref="Save"/> writes itself; everything else (the tokenizer files) is copied.</summary>
    static readonly HashSet<string> OwnFiles = [GptConfig.FileName, RewardModelFolder.WeightsFileName, RewardModelMetadata.FileName, Int8WeightsFileName];

    /// <summary>
    /// Writes the quantised folder atomically (through <see cref="RewardModelFolder.Save"/>): <paramref name="model"/> must
    /// already hold the dequantised weights (<see cref="QuantizedConv1D.WriteDequantized"/>). The tokenizer files are copied
    /// from <paramref name="sourceDirectory"/>; <paramref name="cost"/> (any JSON) is stored in the record.
    /// </summary>
    public static RewardModelMetadata Save(GptRewardModel model, IReadOnlyDictionary<string, Int8Matrix> layers, RewardModelMetadata sourceMetadata,
        string sourceDirectory, string directory, JsonNode? cost = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(sourceMetadata);
        if (Path.GetFullPath(sourceDirectory).TrimEnd('/') == Path.GetFullPath(directory).TrimEnd('/'))
            throw new ArgumentException($"{directory}: the output folder is the source model folder; write the quantised model to a new folder.", nameof(directory));
        var meta = JsonSerializer.Deserialize<RewardModelMetadata>(JsonSerializer.Serialize(sourceMetadata))!;   // a copy
        meta.Extra ??= [];
        meta.Extra.Remove(MetadataKey);
        meta.Name = Path.GetFileName(Path.GetFullPath(directory).TrimEnd('/'));
        var tokenizerFiles = Directory.EnumerateFiles(sourceDirectory)
            .Where(f => !OwnFiles.Contains(Path.GetFileName(f)) && !Path.GetFileName(f).EndsWith(".tmp", StringComparison.Ordinal))
            .ToList();
        return RewardModelFolder.Save(model, directory, meta, tokenizerFiles, temp =>
        {
            var path = Path.Combine(temp, Int8WeightsFileName);
            var int8 = new List<(string, int[], ReadOnlyMemory<sbyte>)>();
            var scales = new List<(string, int[], ReadOnlyMemory<float>)>();
            foreach (var (name, q) in layers.OrderBy(l => l.Key, StringComparer.Ordinal))
            {
                int outFeatures = q.Rows, inFeatures = q.Columns;
                var inOut = new sbyte[q.Values.Length];
                for (int o = 0; o < outFeatures; o++)
                    for (int i = 0; i < inFeatures; i++) inOut[i * outFeatures + o] = q.Values[o * inFeatures + i];
                int8.Add((name, [inFeatures, outFeatures], inOut));
                scales.Add((name + ScaleSuffix, [outFeatures], q.Scales));
            }
            Engine.SafetensorsWriter.Write(path, scales, int8, new Dictionary<string, string> { ["format"] = "pt", ["quantization"] = Scheme });
            string sha;
            using (var stream = File.OpenRead(path)) sha = Convert.ToHexStringLower(SHA256.HashData(stream));
            var record = new JsonObject
            {
                ["scheme"] = Scheme,
                ["weights_file"] = Int8WeightsFileName,
                ["weights_sha256"] = sha,
                ["layout"] = "NAME: I8 [in, out] (Conv1D layout); NAME_scale: F32 [out]; W[i, o] = NAME[i, o] * NAME_scale[o]; model.safetensors holds these dequantised values",
                ["activations"] = "int16 per row, dynamic symmetric, levels min(32767, floor((2^31-1) / (127 * in)))",
                ["layers"] = new JsonArray(layers.Keys.Order(StringComparer.Ordinal).Select(k => (JsonNode)k).ToArray()),
                ["source_version"] = sourceMetadata.Version,
                ["source_name"] = sourceMetadata.Name,
                ["cost"] = cost?.DeepClone(),
            };
            meta.Extra[MetadataKey] = JsonSerializer.SerializeToElement(record);
        });
    }

    /// <summary>True when <paramref name="metadata"/> describes a quantised folder.</summary>
    public static bool IsQuantized(RewardModelMetadata metadata) => metadata.Extra?.ContainsKey(MetadataKey) == true;

    /// <summary>
    /// Reads the int8 layers of a quantised folder and checks them: the file's sha256 against the record, every layer of
    /// the model present with the right shape, and the dequantised values equal to the float weights loaded from
    /// <c>model.safetensors</c> (so the two files cannot come from different models).
    /// </summary>
    public static Dictionary<string, Int8Matrix> LoadLayers(GptRewardModel model, RewardModelMetadata metadata, string directory)
    {
        var record = metadata.Extra![MetadataKey];
        string Field(string name) => record.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new InvalidDataException($"{Path.Combine(directory, RewardModelMetadata.FileName)}: '{MetadataKey}.{name}' is missing or not a string.");
        string scheme = Field("scheme");
        if (scheme != Scheme)
            throw new InvalidDataException($"{Path.Combine(directory, RewardModelMetadata.FileName)}: quantization scheme '{scheme}' is unknown; this build reads '{Scheme}'.");
        var file = Path.GetFileName(Field("weights_file"));
        var path = Path.Combine(directory, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: the int8 weights named in rewardkit.json are missing; quantise the model again.", path);
        var sha = RewardModelFolder.ReadFile(path, () =>
        {
            using var stream = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        });
        if (!string.Equals(sha, Field("weights_sha256"), StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path}: sha256 {sha} does not match rewardkit.json's quantization.weights_sha256; the file is corrupt or from another model.");
        var tensors = RewardModelFolder.ReadFile(path, () => Engine.SafetensorsFile.Read(path));
        var layers = new Dictionary<string, Int8Matrix>(StringComparer.Ordinal);
        foreach (var (name, weight) in QuantizedConv1D.Conv1DWeights(model))
        {
            int inFeatures = weight.Shape[0], outFeatures = weight.Shape[1];
            if (!tensors.Names.Contains(name) || !tensors.Names.Contains(name + ScaleSuffix))
                throw new InvalidDataException($"{path}: layer '{name}' (or its '{name}{ScaleSuffix}') is missing.");
            var entry = tensors[name];
            if (entry.Shape is not [var si, var so] || si != inFeatures || so != outFeatures)
                throw new InvalidDataException($"{path}: '{name}' has shape [{string.Join(", ", entry.Shape)}] but the model's layer is [{inFeatures}, {outFeatures}].");
            var inOut = tensors.ReadInt8(name);
            var scales = tensors.ReadFloats(name + ScaleSuffix);
            if (scales.Length != outFeatures) throw new InvalidDataException($"{path}: '{name}{ScaleSuffix}' has {scales.Length} entries for {outFeatures} output channels.");
            RewardModelFolder.RequireFinite(scales, name + ScaleSuffix, path);
            var values = new sbyte[inOut.Length];
            var floats = weight.Data;
            for (int i = 0; i < inFeatures; i++)
                for (int o = 0; o < outFeatures; o++)
                {
                    var q = inOut[i * outFeatures + o];
                    if (q == sbyte.MinValue) throw new InvalidDataException($"{path}: '{name}'[{i}, {o}] is -128; the symmetric scheme uses -127..127.");
                    if (scales[o] * q != floats[i * outFeatures + o])
                        throw new InvalidDataException($"{path}: '{name}'[{i}, {o}] dequantises to {scales[o] * q} but model.safetensors holds {floats[i * outFeatures + o]}; the two weight files are from different models.");
                    values[o * inFeatures + i] = q;
                }
            layers[name] = new Int8Matrix(outFeatures, inFeatures, values, scales);
        }
        return layers;
    }
}
