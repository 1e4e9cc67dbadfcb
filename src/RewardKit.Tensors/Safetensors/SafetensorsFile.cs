using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace RewardKit.Tensors.Safetensors;

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Stored dtype (F32, F16, BF16 or I8).</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Begin">Start byte offset inside the data section.</param>
/// <param name="End">End byte offset (exclusive) inside the data section.</param>
public sealed record SafetensorsEntry(string Name, string DType, int[] Shape, long Begin, long End);

/// <summary>
/// A parsed, validated safetensors file (Hugging Face format) with tensors readable as float32. <see cref="Read"/> and
/// <see cref="Parse"/> hold the whole file in memory; <see cref="Open"/> reads only the header and memory-maps the data,
/// converting each tensor when it is asked for, <see cref="ChunkBytes"/> at a time. Both validate the header the same
/// strict way. Dispose a file from <see cref="Open"/> to unmap it (for the in-memory forms it does nothing).
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>Largest accepted JSON header (100 MB).</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>Bytes converted per step when a tensor is read (1 MiB), so no tensor needs one span over all of its bytes.</summary>
    public const int ChunkBytes = 1 << 20;

    private readonly byte[]? _data;                    // in-memory: the data section
    private readonly MemoryMappedFile? _map;           // mapped: the whole file
    private readonly MemoryMappedViewAccessor? _view;
    private readonly long _dataStart;                  // mapped: file offset of the data section
    private volatile bool _disposed;
    private readonly Dictionary<string, SafetensorsEntry> _entries;

    private SafetensorsFile(string path, Header header, byte[]? data, MemoryMappedFile? map, MemoryMappedViewAccessor? view)
    {
        Path = path;
        _entries = header.Entries;
        Metadata = header.Metadata;
        _data = data;
        _map = map;
        _view = view;
        _dataStart = header.DataStart;
    }

    /// <summary>File this was read from.</summary>
    public string Path { get; }

    /// <summary>Whether the data is memory-mapped (<see cref="Open"/>) rather than held in memory.</summary>
    public bool IsMapped => _view is not null;

    /// <summary>The <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor names in ordinal order.</summary>
    public IReadOnlyList<string> Names => _entries.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The header entry for <paramref name="name"/>.</summary>
    public SafetensorsEntry this[string name] => _entries.TryGetValue(name, out var e)
        ? e : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");

    /// <summary>Reads and validates the whole file into memory.</summary>
    public static SafetensorsFile Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(path, bytes);
    }

    /// <summary>
    /// Every tensor of the file at <paramref name="path"/> by name, as (shape, float values); F16 and BF16 are widened
    /// to float. The file is memory-mapped and converted tensor by tensor, so loading never holds a second whole copy.
    /// </summary>
    public static Dictionary<string, (int[] Shape, float[] Values)> ReadAllFloats(string path)
    {
        using var file = Open(path);
        var tensors = new Dictionary<string, (int[] Shape, float[] Values)>(StringComparer.Ordinal);
        foreach (var name in file.Names) tensors[name] = (file[name].Shape, file.ReadFloats(name));
        return tensors;
    }

    /// <summary>
    /// Validates the header of the file at <paramref name="path"/> (read with ordinary file I/O, nothing else is read) and
    /// memory-maps it; tensors are converted when <see cref="ReadFloats(string)"/> asks for them. Dispose to unmap.
    /// </summary>
    public static SafetensorsFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.RandomAccess);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            long length = stream.Length;
            Span<byte> prefix = stackalloc byte[8];
            int got = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
            ulong n = CheckHeaderLength(path, got < 8 ? prefix[..got] : prefix, length);
            var headerBytes = new byte[n];
            stream.ReadExactly(headerBytes);
            var header = ParseHeader(path, headerBytes, length);
            map = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            return new SafetensorsFile(path, header, null, map, view);
        }
        catch
        {
            view?.Dispose();
            if (map is not null) map.Dispose(); else stream.Dispose();
            throw;
        }
    }

    /// <summary>Parses and validates safetensors bytes; <paramref name="path"/> is only used in error messages.</summary>
    public static SafetensorsFile Parse(string path, byte[] bytes)
    {
        ulong n = CheckHeaderLength(path, bytes, bytes.Length);
        var header = ParseHeader(path, bytes.AsSpan(8, (int)n), bytes.Length);
        var data = bytes.AsSpan((int)header.DataStart).ToArray();
        return new SafetensorsFile(path, header, data, null, null);
    }

    private sealed record Header(Dictionary<string, SafetensorsEntry> Entries, Dictionary<string, string> Metadata, long DataStart);

    /// <summary>The header length from the first 8 bytes (<paramref name="prefix"/> may be shorter when the file is), bounds-checked.</summary>
    private static ulong CheckHeaderLength(string path, ReadOnlySpan<byte> prefix, long fileLength)
    {
        if (fileLength < 8 || prefix.Length < 8) throw new InvalidDataException($"{path}: truncated file ({fileLength} bytes); a safetensors file starts with an 8-byte header length.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes) throw new InvalidDataException($"{path}: header length {n} exceeds the {MaxHeaderBytes}-byte limit.");
        if ((long)n > fileLength - 8) throw new InvalidDataException($"{path}: header length {n} exceeds the file size ({fileLength} bytes); file truncated?");
        return n;
    }

    /// <summary>Decodes and validates the JSON header and checks that the tensors tile the data section of a <paramref name="fileLength"/>-byte file exactly.</summary>
    private static Header ParseHeader(string path, ReadOnlySpan<byte> headerBytes, long fileLength)
    {
        string json;
        try { json = new UTF8Encoding(false, true).GetString(headerBytes); }
        catch (DecoderFallbackException) { throw new InvalidDataException($"{path}: header is not valid UTF-8."); }
        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException ex) { throw new InvalidDataException($"{path}: header is not valid JSON ({ex.Message}).", ex); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: header must be a JSON object.");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: __metadata__ must be an object of strings.");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}: __metadata__ value '{m.Name}' must be a string.");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                if (entries.ContainsKey(prop.Name)) throw new InvalidDataException($"{path}: duplicate tensor name '{prop.Name}'.");
                entries[prop.Name] = ParseEntry(path, prop.Name, prop.Value);
            }
        }
        long dataStart = 8 + headerBytes.Length;
        long dataLen = fileLength - dataStart;
        long cursor = 0;
        foreach (var e in entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < cursor) throw new InvalidDataException($"{path}: tensor '{e.Name}' data [{e.Begin},{e.End}) overlaps the previous tensor (ends at {cursor}).");
            if (e.Begin > cursor) throw new InvalidDataException($"{path}: gap in data before tensor '{e.Name}' (bytes {cursor}..{e.Begin} unused).");
            if (e.End > dataLen) throw new InvalidDataException($"{path}: tensor '{e.Name}' data [{e.Begin},{e.End}) lies outside the {dataLen}-byte data section; file truncated?");
            cursor = e.End;
        }
        if (cursor != dataLen) throw new InvalidDataException($"{path}: {dataLen - cursor} trailing bytes after the last tensor.");
        return new Header(entries, metadata, dataStart);
    }
    private static SafetensorsEntry ParseEntry(string path, string name, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: tensor '{name}' entry must be an object.");
        if (!v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}: tensor '{name}' lacks a string 'dtype'.");
        string dtype = dt.GetString()!;
        int size = dtype switch { "F32" => 4, "F16" => 2, "BF16" => 2, "I8" => 1, _ => throw new InvalidDataException($"{path}: tensor '{name}' has unsupported dtype '{dtype}' (expected F32, F16, BF16 or I8).") };
        if (!v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: tensor '{name}' lacks a 'shape' array.");
        var shape = new List<int>();
        long count = 1;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim)) throw new InvalidDataException($"{path}: tensor '{name}' shape has a non-integer dimension '{d}'.");
            if (dim < 0) throw new InvalidDataException($"{path}: tensor '{name}' shape has a negative dimension {dim}.");
            if (dim > int.MaxValue) throw new InvalidDataException($"{path}: tensor '{name}' dimension {dim} is too large.");
            shape.Add((int)dim);
            count = checked(count * dim);
        }
        if (!v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new InvalidDataException($"{path}: tensor '{name}' needs 'data_offsets' as [begin, end].");
        long[] be = new long[2];
        for (int i = 0; i < 2; i++)
        {
            var o = off[i];
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out be[i]) || be[i] < 0)
                throw new InvalidDataException($"{path}: tensor '{name}' data_offsets must be non-negative integers, got '{o}'.");
        }
        if (be[1] < be[0]) throw new InvalidDataException($"{path}: tensor '{name}' data_offsets end {be[1]} is before begin {be[0]}.");
        if (be[1] - be[0] != count * size)
            throw new InvalidDataException($"{path}: tensor '{name}' shape [{string.Join(",", shape)}] x {dtype} needs {count * size} bytes but data_offsets span {be[1] - be[0]}.");
        return new SafetensorsEntry(name, dtype, shape.ToArray(), be[0], be[1]);
    }

    /// <summary>Returns the I8 tensor <paramref name="name"/> (quantised weights); other dtypes are refused.</summary>
    public sbyte[] ReadInt8(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var e = this[name];
        if (e.DType != "I8") throw new InvalidDataException($"{Path}: tensor '{name}' is {e.DType}, not I8.");
        long count = e.End - e.Begin;
        if (count > Array.MaxLength) throw new InvalidDataException($"{Path}: tensor '{name}' has {count} elements, more than one array holds.");
        var r = new sbyte[count];
        var destination = MemoryMarshal.AsBytes(r.AsSpan());
        if (_data is not null) { _data.AsSpan((int)e.Begin, r.Length).CopyTo(destination); return r; }
        byte* mapped = null;
        _view!.SafeMemoryMappedViewHandle.AcquirePointer(ref mapped);
        try
        {
            new ReadOnlySpan<byte>(mapped + _view.PointerOffset + _dataStart + e.Begin, r.Length).CopyTo(destination);
        }
        finally
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
        return r;
    }

    static int ElementSize(string dtype) => dtype switch { "F32" => 4, "I8" => 1, _ => 2 };

    /// <summary>Returns tensor <paramref name="name"/> converted to float32 (F16, BF16 and I8 are widened).</summary>
    public float[] ReadFloats(string name)
    {
        var e = this[name];
        long count = (e.End - e.Begin) / ElementSize(e.DType);
        if (count > Array.MaxLength) throw new InvalidDataException($"{Path}: tensor '{name}' has {count} elements, more than one float array holds; read it in parts.");
        var r = new float[count];
        ReadFloats(name, r);
        return r;
    }

    /// <summary>Converts tensor <paramref name="name"/> to float32 into <paramref name="destination"/>, which must hold exactly its element count.</summary>
    public void ReadFloats(string name, Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var e = this[name];
        int size = ElementSize(e.DType);
        long count = (e.End - e.Begin) / size;
        if (destination.Length != count)
            throw new ArgumentException($"{Path}: tensor '{name}' has {count} elements but the destination holds {destination.Length}.", nameof(destination));
        // The view is pinned only for the duration of a read (SafeHandle reference counting also guards against a
        // concurrent Dispose), so a file that is never disposed is still unmapped by the handles' finalisers.
        byte* mapped = null;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref mapped);
            mapped += _view.PointerOffset + _dataStart;
        }
        try
        {
            Convert(e, count, size, mapped, destination);
        }
        finally
        {
            if (_view is not null) _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    private void Convert(SafetensorsEntry e, long count, int size, byte* mapped, Span<float> destination)
    {
        int perChunk = ChunkBytes / size;
        for (long done = 0; done < count; done += perChunk)
        {
            int n = (int)Math.Min(perChunk, count - done);
            long offset = e.Begin + done * size;
            ReadOnlySpan<byte> src = _data is not null ? _data.AsSpan((int)offset, n * size) : new ReadOnlySpan<byte>(mapped + offset, n * size);
            var dst = destination.Slice((int)done, n);
            switch (e.DType)
            {
                case "F32":
                    if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                    else for (int i = 0; i < n; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src.Slice(i * 4));
                    break;
                case "F16":
                    if (BitConverter.IsLittleEndian) TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src), dst);
                    else for (int i = 0; i < n; i++) dst[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(src.Slice(i * 2)));
                    break;
                case "I8":
                    for (int i = 0; i < n; i++) dst[i] = (sbyte)src[i];
                    break;
                default:
                    for (int i = 0; i < n; i++) dst[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src.Slice(i * 2)) << 16);
                    break;
            }
        }
    }

    /// <summary>Unmaps a file from <see cref="Open"/>; later reads throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_view is null || _disposed) return;
        _disposed = true;
        _view.Dispose();
        _map!.Dispose();
    }
}

/// <summary>Writes float32 safetensors files atomically (temp file, flush, rename).</summary>
public static class SafetensorsWriter
{
    /// <summary>Writes named tensors (their data, copied) as F32; see the memory overload.</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(t => (t.Name, (int[])t.Tensor.Shape.Clone(), new ReadOnlyMemory<float>(t.Tensor.ToArray()))), metadata);

    /// <summary>Writes F32 tensors given as whole arrays; see the memory overload.</summary>
    public static void Write(string path, IEnumerable<(string Name, int[] Shape, float[] Values)> tensors) =>
        Write(path, tensors.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)t.Values)));

    /// <summary>Writes the tensors as F32, sorted by name (ordinal), header padded with spaces to 8 bytes.</summary>
    public static void Write(string path, IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        => Write(path, tensors, [], metadata);

    /// <summary>Writes F32 tensors, then I8 tensors (quantised weights), each group sorted by name (ordinal), into one file.</summary>
    public static void Write(string path, IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors,
        IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<sbyte> Data)> int8Tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.Select(t => (t.Name, t.Shape, Floats: t.Data, Bytes: ReadOnlyMemory<sbyte>.Empty, IsInt8: false))
            .Concat(int8Tensors.Select(t => (t.Name, t.Shape, Floats: ReadOnlyMemory<float>.Empty, Bytes: t.Data, IsInt8: true)))
            .OrderBy(t => t.IsInt8).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();   // F32 first keeps every F32 offset 4-aligned
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var kv in metadata.OrderBy(k => k.Key, StringComparer.Ordinal)) w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, shape, floats, bytes, isInt8) in list)
            {
                int length = isInt8 ? bytes.Length : floats.Length, size = isInt8 ? 1 : 4;
                if (name == "__metadata__" || !seen.Add(name)) throw new ArgumentException($"Safetensors write to {path}: duplicate or reserved tensor name '{name}'.");
                long count = 1;
                foreach (int d in shape)
                {
                    if (d < 0) throw new ArgumentException($"Safetensors write to {path}: tensor '{name}' has negative dimension {d}.");
                    count *= d;
                }
                if (count != length) throw new ArgumentException($"Safetensors write to {path}: tensor '{name}' shape [{string.Join(",", shape)}] holds {count} values but {length} were given.");
                w.WriteStartObject(name);
                w.WriteString("dtype", isInt8 ? "I8" : "F32");
                w.WriteStartArray("shape"); foreach (int d in shape) w.WriteNumberValue(d); w.WriteEndArray();
                w.WriteStartArray("data_offsets"); w.WriteNumberValue(offset); w.WriteNumberValue(offset + count * size); w.WriteEndArray();
                w.WriteEndObject();
                offset += count * size;
            }
            w.WriteEndObject();
        }
        while (ms.Length % 8 != 0) ms.WriteByte((byte)' ');
        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)ms.Length);
            fs.Write(len);
            ms.Position = 0;
            ms.CopyTo(fs);
            byte[] buf = new byte[4];
            foreach (var t in list)
            {
                if (t.IsInt8) { fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Bytes.Span)); continue; }
                var s = t.Floats.Span;
                for (int i = 0; i < s.Length; i++) { BinaryPrimitives.WriteSingleLittleEndian(buf, s[i]); fs.Write(buf); }
            }
            fs.Flush(true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
