using Engine = RewardKit.Tensors.Safetensors;

namespace RewardKit.Models;

/// <summary>
/// The model and checkpoint code's view of safetensors: whole files as name → (shape, float values), read and written
/// through the engine's strict reader and atomic writer (RewardKit.Tensors.Safetensors).
/// </summary>
internal static class SafetensorsFile
{
    /// <summary>
    /// Every tensor of the file by name, as (shape, float values); F16 and BF16 are widened to float. The file is
    /// memory-mapped and converted tensor by tensor, so loading never holds a second whole copy of the weights.
    /// </summary>
    public static Dictionary<string, (int[] Shape, float[] Values)> Read(string path)
    {
        using var file = Engine.SafetensorsFile.Open(path);
        var tensors = new Dictionary<string, (int[] Shape, float[] Values)>(StringComparer.Ordinal);
        foreach (var name in file.Names) tensors[name] = (file[name].Shape, file.ReadFloats(name));
        return tensors;
    }

    /// <summary>Writes F32 tensors atomically (temp file, flush, rename).</summary>
    public static void Write(string path, IEnumerable<(string Name, int[] Shape, float[] Values)> tensors) =>
        Engine.SafetensorsWriter.Write(path, tensors.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)t.Values)));
}
