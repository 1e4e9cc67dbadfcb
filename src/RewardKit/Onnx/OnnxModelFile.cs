using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace RewardKit.Onnx;

/// <summary>ONNX tensor element types RewardKit reads (onnx.proto <c>TensorProto.DataType</c>).</summary>
public enum OnnxDataType
{
    /// <summary>32-bit float (1).</summary>
    Float = 1,
    /// <summary>32-bit signed integer (6).</summary>
    Int32 = 6,
    /// <summary>64-bit signed integer (7).</summary>
    Int64 = 7,
}

/// <summary>A constant tensor of an ONNX graph: an initializer or the value of a <c>Constant</c> node.</summary>
/// <param name="Name">The graph value's name.</param>
/// <param name="Shape">Its dimensions (empty for a scalar).</param>
/// <param name="DataType">The element type.</param>
/// <param name="Floats">The values when <see cref="DataType"/> is Float, else null.</param>
/// <param name="Integers">The values when the type is Int32 or Int64, else null.</param>
public sealed record OnnxTensor(string Name, int[] Shape, OnnxDataType DataType, float[]? Floats, long[]? Integers)
{
    /// <summary>The number of elements.</summary>
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>One node of an ONNX graph: its operator and the names of the values it reads and writes.</summary>
/// <param name="Name">The node's name (may be empty).</param>
/// <param name="OpType">The operator (<c>MatMul</c>, <c>Add</c>, <c>Gemm</c>, ...).</param>
/// <param name="Inputs">Input value names, in order.</param>
/// <param name="Outputs">Output value names, in order.</param>
/// <param name="Attributes">Integer and float attributes by name (e.g. Gemm's <c>transB</c>, LayerNormalization's <c>epsilon</c>).</param>
/// <param name="TensorValue">The tensor of a <c>Constant</c> node (attribute <c>value</c>), else null.</param>
public sealed record OnnxNode(string Name, string OpType, string[] Inputs, string[] Outputs,
    IReadOnlyDictionary<string, double> Attributes, OnnxTensor? TensorValue);

/// <summary>
/// The parts of an ONNX model (<c>ModelProto</c>) that loading weights needs: the graph's nodes, its initializers and the
/// names of its inputs and outputs. A small reader of the protobuf wire format for exactly the onnx.proto fields used
/// here (field numbers from onnx/onnx.proto, IR version 3 and later); everything else is skipped. Tensors stored in
/// external files are refused with a clear error. Kept beside OnnxSharp (which `export onnx` writes with): reading the
/// MiniLM ONNX through OnnxSharp + Google.Protobuf took 2.4x as long (bench/results/2026-12-08-onnx-reader.md).
/// </summary>
public sealed class OnnxModelFile
{
    OnnxModelFile(string source, List<OnnxNode> nodes, Dictionary<string, OnnxTensor> initializers, List<string> inputs, List<string> outputs)
    {
        Source = source;
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>Where the model was read from (for messages).</summary>
    public string Source { get; }

    /// <summary>The graph's nodes in file order (topological in well-formed models).</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>The graph's initializers (weights) by name.</summary>
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }

    /// <summary>The graph's input names that are not initializers.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>The graph's output names.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Reads an ONNX model file.</summary>
    public static OnnxModelFile Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: ONNX model file not found.", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses the bytes of an ONNX model; <paramref name="source"/> names it in errors.</summary>
    public static OnnxModelFile Parse(ReadOnlySpan<byte> bytes, string source)
    {
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var inputs = new List<string>();
        var outputs = new List<string>();
        bool sawGraph = false;
        try
        {
            var model = new ProtoReader(bytes);
            while (model.Next(out int field, out int wire))
            {
                if (field == 7 && wire == ProtoReader.LengthDelimited)   // ModelProto.graph
                {
                    sawGraph = true;
                    ReadGraph(model.Bytes(), nodes, initializers, inputs, outputs, source);
                }
                else model.Skip(wire);
            }
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
        {
            throw new InvalidDataException($"{source}: not a readable ONNX model (the protobuf data is cut short or malformed): {e.Message}", e);
        }
        if (!sawGraph) throw new InvalidDataException($"{source}: no graph in the ONNX model; is this an ONNX file?");
        inputs.RemoveAll(initializers.ContainsKey);
        return new OnnxModelFile(source, nodes, initializers, inputs, outputs);
    }

    static void ReadGraph(ReadOnlySpan<byte> bytes, List<OnnxNode> nodes, Dictionary<string, OnnxTensor> initializers,
        List<string> inputs, List<string> outputs, string source)
    {
        var graph = new ProtoReader(bytes);
        while (graph.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited: nodes.Add(ReadNode(graph.Bytes(), source)); break;       // node
                case 5 when wire == ProtoReader.LengthDelimited:                                                             // initializer
                    var t = ReadTensor(graph.Bytes(), source);
                    initializers[t.Name] = t;
                    break;
                case 11 when wire == ProtoReader.LengthDelimited: inputs.Add(ValueInfoName(graph.Bytes())); break;          // input
                case 12 when wire == ProtoReader.LengthDelimited: outputs.Add(ValueInfoName(graph.Bytes())); break;         // output
                default: graph.Skip(wire); break;
            }
        }
    }

    static string ValueInfoName(ReadOnlySpan<byte> bytes)
    {
        var info = new ProtoReader(bytes);
        while (info.Next(out int field, out int wire))
            if (field == 1 && wire == ProtoReader.LengthDelimited) return info.String();
            else info.Skip(wire);
        return "";
    }

    static OnnxNode ReadNode(ReadOnlySpan<byte> bytes, string source)
    {
        var node = new ProtoReader(bytes);
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, double>(StringComparer.Ordinal);
        string name = "", op = "";
        OnnxTensor? value = null;
        while (node.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited: inputs.Add(node.String()); break;
                case 2 when wire == ProtoReader.LengthDelimited: outputs.Add(node.String()); break;
                case 3 when wire == ProtoReader.LengthDelimited: name = node.String(); break;
                case 4 when wire == ProtoReader.LengthDelimited: op = node.String(); break;
                case 5 when wire == ProtoReader.LengthDelimited: ReadAttribute(node.Bytes(), attributes, ref value, source); break;
                default: node.Skip(wire); break;
            }
        }
        if (value is not null && outputs.Count > 0) value = value with { Name = outputs[0] };
        return new OnnxNode(name, op, [.. inputs], [.. outputs], attributes, value);
    }

    /// <summary>AttributeProto: name (1), f (2), i (3), t (5); other kinds are skipped.</summary>
    static void ReadAttribute(ReadOnlySpan<byte> bytes, Dictionary<string, double> attributes, ref OnnxTensor? value, string source)
    {
        var attribute = new ProtoReader(bytes);
        string name = "";
        double? number = null;
        OnnxTensor? tensor = null;
        while (attribute.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited: name = attribute.String(); break;
                case 2 when wire == ProtoReader.Fixed32Wire: number = attribute.Float(); break;
                case 3 when wire == ProtoReader.VarintWire: number = (long)attribute.Varint(); break;
                case 5 when wire == ProtoReader.LengthDelimited: tensor = ReadTensor(attribute.Bytes(), source); break;
                default: attribute.Skip(wire); break;
            }
        }
        if (number is not null) attributes[name] = number.Value;
        if (tensor is not null && name == "value") value = tensor;
    }

    /// <summary>TensorProto: dims (1), data_type (2), float_data (4), int32_data (5), int64_data (7), name (8), raw_data (9), data_location (14).</summary>
    static OnnxTensor ReadTensor(ReadOnlySpan<byte> bytes, string source)
    {
        var tensor = new ProtoReader(bytes);
        var dims = new List<int>();
        var floats = new List<float>();
        var integers = new List<long>();
        int type = 0;
        string name = "";
        ReadOnlySpan<byte> raw = default;
        bool external = false;
        while (tensor.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: tensor.Repeated(wire, (ref ProtoReader r) => dims.Add(checked((int)(long)r.Varint()))); break;
                case 2 when wire == ProtoReader.VarintWire: type = (int)tensor.Varint(); break;
                case 4: tensor.Repeated(wire, (ref ProtoReader r) => floats.Add(r.Float())); break;
                case 5 or 7: tensor.Repeated(wire, (ref ProtoReader r) => integers.Add((long)r.Varint())); break;
                case 8 when wire == ProtoReader.LengthDelimited: name = tensor.String(); break;
                case 9 when wire == ProtoReader.LengthDelimited: raw = tensor.Bytes(); break;
                case 14 when wire == ProtoReader.VarintWire: external = tensor.Varint() == 1; break;
                default: tensor.Skip(wire); break;
            }
        }
        if (external)
            throw new InvalidDataException($"{source}: tensor '{name}' is stored in an external data file, which RewardKit does not read; export the model with its weights inside the .onnx file.");
        var shape = dims.ToArray();
        long count = 1;
        foreach (var d in shape) count *= d;
        switch ((OnnxDataType)type)
        {
            case OnnxDataType.Float:
                var f = raw.IsEmpty ? floats.ToArray() : FromRaw<float>(raw, count, name, source);
                CheckCount(f.Length, count, name, source);
                return new OnnxTensor(name, shape, OnnxDataType.Float, f, null);
            case OnnxDataType.Int64:
                var l = raw.IsEmpty ? integers.ToArray() : FromRaw<long>(raw, count, name, source);
                CheckCount(l.Length, count, name, source);
                return new OnnxTensor(name, shape, OnnxDataType.Int64, null, l);
            case OnnxDataType.Int32:
                var i = raw.IsEmpty ? integers.ToArray() : Array.ConvertAll(FromRaw<int>(raw, count, name, source), v => (long)v);
                CheckCount(i.Length, count, name, source);
                return new OnnxTensor(name, shape, OnnxDataType.Int32, null, i);
            default:
                // Other types (bool masks, float16 ...) are kept as shape-only entries: weights loading never reads them.
                return new OnnxTensor(name, shape, (OnnxDataType)type, null, null);
        }
    }

    static T[] FromRaw<T>(ReadOnlySpan<byte> raw, long count, string name, string source) where T : unmanaged
    {
        int size = Marshal.SizeOf<T>();
        if (raw.Length != count * size)
            throw new InvalidDataException($"{source}: tensor '{name}' holds {raw.Length} bytes of raw data but its shape needs {count * size}.");
        var values = new T[count];
        raw.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));   // ONNX raw_data is little-endian, as every platform .NET runs on here
        return values;
    }

    static void CheckCount(long have, long want, string name, string source)
    {
        if (have != want) throw new InvalidDataException($"{source}: tensor '{name}' holds {have} values but its shape needs {want}.");
    }
}

/// <summary>A forward-only reader of the protobuf wire format over a span (varints, fixed32/64, length-delimited fields).</summary>
ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    public const int VarintWire = 0, Fixed64Wire = 1, LengthDelimited = 2, Fixed32Wire = 5;

    readonly ReadOnlySpan<byte> _data = data;
    int _position;

    /// <summary>Reads the next field's tag; false at the end.</summary>
    public bool Next(out int field, out int wireType)
    {
        if (_position >= _data.Length) { field = 0; wireType = 0; return false; }
        ulong tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        return true;
    }

    public ulong Varint() => ReadVarint();

    public float Float()
    {
        float v = BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_position, 4));
        _position += 4;
        return v;
    }

    public ReadOnlySpan<byte> Bytes()
    {
        int length = checked((int)ReadVarint());
        var slice = _data.Slice(_position, length);
        _position += length;
        return slice;
    }

    public string String() => Encoding.UTF8.GetString(Bytes());

    /// <summary>A repeated scalar field, packed (one length-delimited run) or not (one value per tag).</summary>
    public void Repeated(int wireType, ElementReader read)
    {
        if (wireType != LengthDelimited) { read(ref this); return; }
        var packed = new ProtoReader(Bytes());
        while (packed._position < packed._data.Length) read(ref packed);
    }

    public delegate void ElementReader(ref ProtoReader reader);

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case VarintWire: ReadVarint(); break;
            case Fixed64Wire: _position += 8; break;
            case LengthDelimited: Bytes(); break;
            case Fixed32Wire: _position += 4; break;
            default: throw new InvalidDataException($"unsupported protobuf wire type {wireType} at byte {_position}.");
        }
        if (_position > _data.Length) throw new ArgumentOutOfRangeException(nameof(wireType), "a field runs past the end of its message.");
    }

    ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = _data[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new OverflowException($"a varint at byte {_position} is longer than 10 bytes.");
    }
}
