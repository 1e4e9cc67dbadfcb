using System.Buffers.Binary;
using System.Text.Json;

namespace RewardKit.Models;

/// <summary>
/// Minimal safetensors reader (F32, F16, BF16 → float) until the engine's Safetensors API (branch opsb) is merged;
/// then this file is replaced by calls to it.
/// </summary>
internal static class SafetensorsFile
{
    /// <summary>Every tensor of the file by name, as (shape, float values).</summary>
    public static Dictionary<string, (int[] Shape, float[] Values)> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: too short for a safetensors file.");
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (headerLength <= 0 || 8 + headerLength > bytes.Length) throw new InvalidDataException($"{path}: header length {headerLength} does not fit the file ({bytes.Length} bytes).");
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        int dataStart = 8 + (int)headerLength;
        var result = new Dictionary<string, (int[], float[])>(StringComparer.Ordinal);
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var dtype = entry.Value.GetProperty("dtype").GetString();
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            int count = shape.Aggregate(1, (a, b) => a * b);
            int size = dtype switch { "F32" => 4, "F16" or "BF16" => 2, _ => throw new InvalidDataException($"{path}: tensor '{entry.Name}' has dtype {dtype}; only F32, F16 and BF16 are read.") };
            if (offsets[1] - offsets[0] != (long)count * size || dataStart + offsets[1] > bytes.Length)
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' data_offsets {offsets[0]}..{offsets[1]} do not match shape ({string.Join(", ", shape)}) of {dtype}.");
            var span = bytes.AsSpan(dataStart + (int)offsets[0], count * size);
            var values = new float[count];
            for (int i = 0; i < count; i++)
                values[i] = dtype switch
                {
                    "F32" => BinaryPrimitives.ReadSingleLittleEndian(span[(4 * i)..]),
                    "F16" => (float)BitConverter.Int16BitsToHalf(BinaryPrimitives.ReadInt16LittleEndian(span[(2 * i)..])),
                    _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(span[(2 * i)..]) << 16),
                };
            result[entry.Name] = (shape, values);
        }
        return result;
    }

    /// <summary>Writes F32 tensors (sorted by name, header padded to 8 bytes) and flushes to disk.</summary>
    public static void Write(string path, IEnumerable<(string Name, int[] Shape, float[] Values)> tensors)
    {
        var list = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (name, shape, values) in list)
        {
            header[name] = new Dictionary<string, object> { ["dtype"] = "F32", ["shape"] = shape, ["data_offsets"] = new[] { offset, offset + 4L * values.Length } };
            offset += 4L * values.Length;
        }
        header["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" };
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8;
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, padded);
        stream.Write(length);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var (_, _, values) in list)
        {
            var bytes = new byte[4 * values.Length];
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
            stream.Write(bytes);
        }
        stream.Flush(flushToDisk: true);
    }
}
