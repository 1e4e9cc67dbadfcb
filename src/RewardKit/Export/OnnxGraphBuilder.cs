using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace RewardKit.Export;

/// <summary>
/// Builds an ONNX <see cref="GraphProto"/> one node at a time: every call adds a node and returns the name of its output,
/// so graph code reads like the forward it mirrors (<c>var y = g.Add(g.MatMul(x, w), b);</c>). Node and value names
/// carry the current <see cref="Scope"/> (<c>/transformer.h.0/attn/MatMul_3</c>), as PyTorch's exporter names them.
/// Weights become initializers under the names given (the Hugging Face names).
/// </summary>
internal sealed class OnnxGraphBuilder
{
    int _next;

    public GraphProto Graph { get; } = new();

    /// <summary>The prefix of the names of the nodes added next (e.g. <c>/transformer.h.0/attn</c>).</summary>
    public string Scope { get; set; } = "";

    /// <summary>Appends <c>/name</c> to the scope until the returned handle is disposed.</summary>
    public IDisposable Enter(string name)
    {
        var outer = Scope;
        Scope = outer + "/" + name;
        return new ScopeExit(this, outer);
    }

    sealed class ScopeExit(OnnxGraphBuilder builder, string outer) : IDisposable
    {
        public void Dispose() => builder.Scope = outer;
    }

    /// <summary>Adds a graph input or output of element type <paramref name="type"/>; a dimension is a name (symbolic) or a size.</summary>
    public static ValueInfoProto Value(string name, DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    /// <summary>A float32 initializer named <paramref name="name"/> (raw little-endian data).</summary>
    public string Initializer(string name, ReadOnlySpan<int> dims, ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian; this machine is not.");
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values)) };
        foreach (var d in dims) tensor.Dims.Add(d);
        Graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>An int64 constant (an initializer named after the scope); a scalar when <paramref name="scalar"/> is set.</summary>
    public string Int64s(long[] values, bool scalar = false)
    {
        var tensor = new TensorProto { Name = Fresh("const"), DataType = (int)DataType.Int64 };
        if (!scalar) tensor.Dims.Add(values.Length);
        tensor.Int64Data.Add(values);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>A float32 scalar constant.</summary>
    public string Float(float value)
    {
        var tensor = new TensorProto { Name = Fresh("const"), DataType = (int)DataType.Float };
        tensor.FloatData.Add(value);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds one node of operator <paramref name="op"/> and returns its single output.</summary>
    public string Node(string op, string[] inputs, params AttributeProto[] attributes) => Node(op, inputs, 1, attributes)[0];

    /// <summary>Adds one node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Node(string op, string[] inputs, int outputs, params AttributeProto[] attributes)
    {
        var name = Fresh(op);
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.Add(inputs);
        var names = new string[outputs];
        for (int i = 0; i < outputs; i++) names[i] = outputs == 1 ? name + "_output" : $"{name}_output_{i}";
        node.Output.Add(names);
        node.Attribute.Add(attributes);
        Graph.Node.Add(node);
        return names;
    }

    /// <summary>Adds a node writing to an output named by the caller (a graph output).</summary>
    public void NodeInto(string output, string op, string[] inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.Add(inputs);
        node.Output.Add(output);
        node.Attribute.Add(attributes);
        Graph.Node.Add(node);
    }

    string Fresh(string what) => $"{Scope}/{what}_{_next++}";

    // ---- attributes -----------------------------------------------------------------------------------------

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return a;
    }

    public static AttributeProto FloatAttribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    // ---- the operators the exporters use (ONNX names, opset 17) ---------------------------------------------

    public string Add(string a, string b) => Node("Add", [a, b]);

    public string Sub(string a, string b) => Node("Sub", [a, b]);

    public string Mul(string a, string b) => Node("Mul", [a, b]);

    public string Div(string a, string b) => Node("Div", [a, b]);

    public string MatMul(string a, string b) => Node("MatMul", [a, b]);

    public string Tanh(string x) => Node("Tanh", [x]);

    public string Transpose(string x, params long[] perm) => Node("Transpose", [x], Ints("perm", perm));

    public string Reshape(string x, params long[] shape) => Node("Reshape", [x, Int64s(shape)]);

    public string Unsqueeze(string x, params long[] axes) => Node("Unsqueeze", [x, Int64s(axes)]);

    public string Cast(string x, DataType to) => Node("Cast", [x], Int("to", (long)to));

    public string Gather(string data, string indices, long axis = 0) => Node("Gather", [data, indices], Int("axis", axis));

    public string Softmax(string x, long axis) => Node("Softmax", [x], Int("axis", axis));

    public string Where(string condition, string a, string b) => Node("Where", [condition, a, b]);

    public string ReduceSum(string x, long axis, bool keepDims) => Node("ReduceSum", [x, Int64s([axis])], Int("keepdims", keepDims ? 1 : 0));

    /// <summary>LayerNormalization over the last axis (opset 17).</summary>
    public string LayerNorm(string x, string scale, string bias, float epsilon) =>
        Node("LayerNormalization", [x, scale, bias], Int("axis", -1), FloatAttribute("epsilon", epsilon));
}
