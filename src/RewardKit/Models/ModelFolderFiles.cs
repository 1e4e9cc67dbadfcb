using System.Security.Cryptography;
using RewardKit.IO;
using RewardKit.Inference;
using RewardKit.Tensors.Safetensors;
using RewardKit.Tensors;

namespace RewardKit.Models;

/// <summary>
/// What every RewardKit model folder (reward model, policy) shares: the atomic write of config.json, model.safetensors,
/// tokenizer files and rewardkit.json, and the copy of checkpoint tensors into a <see cref="ParameterSet"/> by name.
/// </summary>
internal static class ModelFolderFiles
{
    /// <summary>
    /// Writes the folder atomically: everything goes to a temporary sibling folder, which then replaces
    /// <paramref name="directory"/>. The metadata's Version becomes the sha256 of the weights; <paramref name="annotate"/>
    /// may add to it before it is written. Returns the metadata written.
    /// </summary>
    public static RewardModelMetadata Write(string directory, string configJson, ParameterSet parameters, RewardModelMetadata? metadata,
        IEnumerable<string>? tokenizerFiles, Action<string>? writeExtra, Action<RewardModelMetadata>? annotate = null)
    {
        var full = Path.GetFullPath(directory);
        var temp = full.TrimEnd(Path.DirectorySeparatorChar) + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            File.WriteAllText(Path.Combine(temp, GptConfig.FileName), configJson);
            var weights = Path.Combine(temp, RewardModelFolder.WeightsFileName);
            SafetensorsWriter.Write(weights, parameters.Entries.Select(e => (e.Name, e.Tensor.Shape, e.Tensor.ToArray())));
            foreach (var file in tokenizerFiles ?? [])
            {
                if (!File.Exists(file)) throw new FileNotFoundException($"{file}: tokenizer file does not exist.", file);
                File.Copy(file, Path.Combine(temp, Path.GetFileName(file)));
            }
            writeExtra?.Invoke(temp);
            var meta = metadata ?? new RewardModelMetadata { Name = Path.GetFileName(full) };
            using (var stream = File.OpenRead(weights)) meta.Version = Convert.ToHexStringLower(SHA256.HashData(stream));
            meta.Extra ??= [];
            annotate?.Invoke(meta);
            meta.Save(temp);
            AtomicFile.ReplaceDirectory(temp, full);
            return meta;
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Copies the tensors of <paramref name="tensors"/> whose name <paramref name="toModelName"/> maps to a parameter into it;
    /// throws on a shape mismatch or a NaN/infinite value, naming the tensor. Returns the parameters loaded and the checkpoint names left unused.
    /// </summary>
    public static (List<string> Loaded, List<string> Unexpected) CopyWeights(ParameterSet parameters, string path,
        Dictionary<string, (int[] Shape, float[] Values)> tensors, Func<string, string?> toModelName)
    {
        var loaded = new List<string>();
        var unexpected = new List<string>();
        foreach (var (name, (shape, values)) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var target = toModelName(name);
            var parameter = target is null ? null : parameters.TryGet(target);
            if (parameter is null) { unexpected.Add(name); continue; }
            if (!Shapes.Equal(shape, parameter.Shape))
                throw new InvalidDataException($"{path}: tensor '{name}' has shape {Shapes.Format(shape)} but the model's '{target}' is {Shapes.Format(parameter.Shape)}; the checkpoint does not match config.json.");
            RewardModelFolder.RequireFinite(values, name, path);
            values.CopyTo(parameter.Data);
            loaded.Add(target!);
        }
        return (loaded, unexpected);
    }
}
