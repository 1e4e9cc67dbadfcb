using System.Buffers.Binary;
using System.Text;
using RewardKit.Tensors.Safetensors;
using Xunit;

namespace RewardKit.Tensors.Tests.Safetensors;

public sealed class SafetensorsFileTests
{
    private static byte[] Build(string header, int dataBytes)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var b = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)h.Length);
        h.CopyTo(b, 8);
        return b;
    }

    [Fact]
    public void Round_trip_preserves_names_shapes_values_and_metadata()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            var a = new float[] { 1f, -2.5f, 3.25f, float.MaxValue, 0f, 1e-30f };
            var bv = new float[] { 7f };
            SafetensorsWriter.Write(path, [("z.w", new[] { 2, 3 }, a), ("a.b", new[] { 1 }, bv)], new Dictionary<string, string> { ["format"] = "pt" });
            var f = SafetensorsFile.Read(path);
            Assert.Equal(new[] { "a.b", "z.w" }, f.Names);
            Assert.Equal(new[] { 2, 3 }, f["z.w"].Shape);
            Assert.Equal(a, f.ReadFloats("z.w"));
            Assert.Equal(bv, f.ReadFloats("a.b"));
            Assert.Equal("pt", f.Metadata["format"]);
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path));
            Assert.Equal(0UL, n % 8);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void F16_and_BF16_are_widened_to_float32()
    {
        var b = Build("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,6]}}", 6);
        int d = b.Length - 6;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(d), BitConverter.HalfToUInt16Bits((Half)1.5f));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(d + 2), BitConverter.HalfToUInt16Bits((Half)(-0.25f)));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(d + 4), (ushort)(BitConverter.SingleToInt32Bits(-3f) >> 16));
        var f = SafetensorsFile.Parse("mem", b);
        Assert.Equal(new[] { 1.5f, -0.25f }, f.ReadFloats("h"));
        Assert.Equal(new[] { -3f }, f.ReadFloats("b"));
    }

    [Theory]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "not valid JSON")]
    [InlineData("{\"x\":{\"dtype\":\"I7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unsupported dtype")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "negative dimension")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "non-integer dimension")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0.5,8]}}", 8, "non-negative integers")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "gap")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlaps")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "uplicate")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "trailing")]
    [InlineData("{\"x\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets")]
    [InlineData("[1,2]", 0, "JSON object")]
    [InlineData("{\"__metadata__\":{\"k\":1}}", 0, "must be a string")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "before begin")]
    public void Malformed_headers_are_rejected_with_the_problem_named(string header, int dataBytes, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse("bad.safetensors", Build(header, dataBytes)));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("bad.safetensors", ex.Message);
    }

    [Fact]
    public void Truncated_and_oversized_header_lengths_are_rejected()
    {
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse("f", new byte[3])).Message);
        var b = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(b, 1000);
        Assert.Contains("exceeds the file size", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse("f", b)).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(b, ulong.MaxValue);
        Assert.Contains("limit", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse("f", b)).Message);
        var u = Build("{\"x\":1}", 0);
        u[9] = 0xFF;
        Assert.Contains("UTF-8", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Parse("f", u)).Message);
    }

    private static string Fixture(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string p = System.IO.Path.Combine(d.FullName, "tests", "RewardKit.Tensors.Tests", "Fixtures", name);
            if (File.Exists(p)) return p;
        }
        throw new FileNotFoundException($"Fixture {name} not found above {AppContext.BaseDirectory}; run tools/safetensors_fixture.py.");
    }

    [Fact]
    public void A_file_packed_by_hand_in_python_reads_back_exactly()
    {
        var f = SafetensorsFile.Read(Fixture("handmade.safetensors"));
        Assert.Equal(new[] { "a.f32", "b.f16", "c.bf16" }, f.Names);
        Assert.Equal(new[] { 2, 3 }, f["a.f32"].Shape);
        Assert.Equal(new[] { 1f, -2f, 0.5f, 3.25f, 0f, -7.75f }, f.ReadFloats("a.f32"));
        Assert.Equal(new[] { 1.5f, -0.25f, 65504f }, f.ReadFloats("b.f16"));
        Assert.Equal(new[] { -3f, 0.15625f }, f.ReadFloats("c.bf16"));
        Assert.Equal("pt", f.Metadata["format"]);
    }

    [Fact]
    public void Tensors_can_be_written_directly()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            var t = Tensor.Zeros(2, 2);
            t.Data[3] = 4.5f;
            SafetensorsWriter.Write(path, [("t", t)]);
            var f = SafetensorsFile.Read(path);
            Assert.Equal(new[] { 2, 2 }, f["t"].Shape);
            Assert.Equal(new[] { 0f, 0f, 0f, 4.5f }, f.ReadFloats("t"));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void I8_tensors_round_trip_after_the_F32_ones_which_stay_4_byte_aligned()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            var q = new sbyte[] { -127, 0, 5, 127, -1 };
            var scale = new float[] { 0.5f, 2f };
            SafetensorsWriter.Write(path, [("b.scale", new[] { 2 }, scale), ("z.f", new[] { 1 }, new float[] { 3f })], [("a.q", new[] { 5 }, q)]);
            var f = SafetensorsFile.Read(path);
            Assert.Equal("I8", f["a.q"].DType);
            Assert.Equal(q, f.ReadInt8("a.q"));
            Assert.Equal(q.Select(v => (float)v).ToArray(), f.ReadFloats("a.q"));
            Assert.Equal(scale, f.ReadFloats("b.scale"));
            Assert.Equal(0, f["b.scale"].Begin % 4);
            Assert.Equal(0, f["z.f"].Begin % 4);
            Assert.True(f["a.q"].Begin >= f["z.f"].End);
            Assert.Throws<InvalidDataException>(() => f.ReadInt8("b.scale"));
        }
        finally { File.Delete(path); }
    }
}
