using System.Text.Json;
using RewardKit.Tensors;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Tensors.Tests.Ops;

/// <summary>Fused ops against PyTorch float64 values from tools/opsb_fixtures.py (Fixtures/opsb_torch.json).</summary>
public class TorchParityTests
{
    static JsonElement Case(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "tests", "RewardKit.Tensors.Tests", "Fixtures", "opsb_torch.json");
            if (File.Exists(p)) return JsonDocument.Parse(File.ReadAllText(p)).RootElement.GetProperty(name);
        }
        throw new FileNotFoundException($"opsb_torch.json not found above {AppContext.BaseDirectory}; run tools/opsb_fixtures.py.");
    }

    static float[] F(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    static void Close(float[] expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"{what}[{i}]: expected {expected[i]}, got {actual[i]}.");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Masked_attention_and_its_gradient_match_pytorch(int threads)
    {
        var c = Case("attention");
        int B = c.GetProperty("B").GetInt32(), T = c.GetProperty("T").GetInt32(), C = c.GetProperty("C").GetInt32();
        var qkv = Tensor.FromArray(F(c, "qkv"), B, T, 3 * C).RequireGrad();
        var mask = Tensor.FromArray(F(c, "mask"), B, T);
        using var pool = new WorkerPool(threads);
        var tape = new Tape(pool);
        var y = tape.CausalSelfAttention(qkv, c.GetProperty("heads").GetInt32(), mask);
        Close(F(c, "y"), y.Data, 1e-5, "y");
        tape.Backward(y, F(c, "dy"));
        Close(F(c, "dqkv"), qkv.Grad, 1e-5, "dqkv");
    }

    [Fact]
    public void LayerNorm_and_its_gradients_match_pytorch()
    {
        var c = Case("layernorm");
        var shape = c.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var x = Tensor.FromArray(F(c, "x"), shape).RequireGrad();
        var w = Tensor.FromArray(F(c, "w"), shape[^1]).RequireGrad();
        var b = Tensor.FromArray(F(c, "b"), shape[^1]).RequireGrad();
        var tape = new Tape();
        var y = tape.LayerNorm(x, w, b, 1e-5f);
        Close(F(c, "y"), y.Data, 1e-5, "y");
        tape.Backward(y, F(c, "dy"));
        Close(F(c, "dx"), x.Grad, 1e-4, "dx");
        Close(F(c, "dw"), w.Grad, 1e-5, "dw");
        Close(F(c, "db"), b.Grad, 1e-5, "db");
    }

    [Fact]
    public void CrossEntropy_and_its_gradient_match_pytorch()
    {
        var c = Case("cross_entropy");
        var shape = c.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var logits = Tensor.FromArray(F(c, "logits"), shape).RequireGrad();
        var targets = c.GetProperty("targets").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var tape = new Tape();
        var loss = tape.CrossEntropy(logits, targets);
        Assert.Equal(c.GetProperty("loss").GetDouble(), loss.ToScalar(), 5);
        tape.Backward(loss);
        Close(F(c, "dlogits"), logits.Grad, 1e-5, "dlogits");
    }
}
