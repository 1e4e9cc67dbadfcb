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

    [Theory]
    [InlineData(Mode.Parse)]
    [InlineData(Mode.Open)]
    public void F16_and_BF16_are_widened_to_float32(Mode mode)
    {
        var b = Build("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,6]}}", 6);
        int d = b.Length - 6;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(d), BitConverter.HalfToUInt16Bits((Half)1.5f));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(d + 2), BitConverter.HalfToUInt16Bits((Half)(-0.25f)));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(d + 4), (ushort)(BitConverter.SingleToInt32Bits(-3f) >> 16));
        Load(mode, "mem", b, f =>
        {
            Assert.Equal(new[] { 1.5f, -0.25f }, f.ReadFloats("h"));
            Assert.Equal(new[] { -3f }, f.ReadFloats("b"));
        });
    }

    /// <summary>How a test loads bytes: in memory (<see cref="SafetensorsFile.Parse"/>) or from a file through the memory-mapped <see cref="SafetensorsFile.Open"/>.</summary>
    public enum Mode { Parse, Open }

    /// <summary>Loads <paramref name="bytes"/> the given way, as if from a file called <paramref name="name"/>, and runs <paramref name="use"/> on it.</summary>
    private static void Load(Mode mode, string name, byte[] bytes, Action<SafetensorsFile> use)
    {
        if (mode == Mode.Parse) { use(SafetensorsFile.Parse(name, bytes)); return; }
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"st-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string path = System.IO.Path.Combine(dir, name);
            File.WriteAllBytes(path, bytes);
            using var f = SafetensorsFile.Open(path);
            Assert.True(f.IsMapped);
            use(f);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static readonly (string Header, int DataBytes, string Expected)[] MalformedHeaders =
    [
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "not valid JSON"),
        ("{\"x\":{\"dtype\":\"I7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unsupported dtype"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "negative dimension"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "non-integer dimension"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0.5,8]}}", 8, "non-negative integers"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "gap"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlaps"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "uplicate"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "trailing"),
        ("{\"x\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets"),
        ("[1,2]", 0, "JSON object"),
        ("{\"__metadata__\":{\"k\":1}}", 0, "must be a string"),
        ("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "before begin")
    ];

    public static TheoryData<Mode, string, int, string> Malformed()
    {
        var data = new TheoryData<Mode, string, int, string>();
        foreach (var mode in new[] { Mode.Parse, Mode.Open })
            foreach (var (header, bytes, expected) in MalformedHeaders) data.Add(mode, header, bytes, expected);
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_headers_are_rejected_with_the_problem_named(Mode mode, string header, int dataBytes, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Load(mode, "bad.safetensors", Build(header, dataBytes), _ => { }));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("bad.safetensors", ex.Message);
    }

    [Theory]
    [InlineData(Mode.Parse)]
    [InlineData(Mode.Open)]
    public void Truncated_and_oversized_header_lengths_are_rejected(Mode mode)
    {
        string Error(byte[] bytes) => Assert.Throws<InvalidDataException>(() => Load(mode, "f", bytes, _ => { })).Message;
        Assert.Contains("truncated", Error(new byte[3]));
        Assert.Contains("truncated", Error([]));
        var b = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(b, 1000);
        Assert.Contains("exceeds the file size", Error(b));
        BinaryPrimitives.WriteUInt64LittleEndian(b, ulong.MaxValue);
        Assert.Contains("limit", Error(b));
        var u = Build("{\"x\":1}", 0);
        u[9] = 0xFF;
        Assert.Contains("UTF-8", Error(u));
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
    public void A_file_larger_than_a_chunk_reads_lazily_the_same_mapped_as_in_memory()
    {
        // F32 and F16 tensors each spanning several ChunkBytes plus a ragged end, a small BF16 tensor between them.
        int f32 = 3 * SafetensorsFile.ChunkBytes / 4 + 1001, f16 = 2 * SafetensorsFile.ChunkBytes / 2 + 77, bf16 = 5;
        long a = 4L * f32, b = a + 2L * bf16, c = b + 2L * f16;
        var header = $"{{\"a\":{{\"dtype\":\"F32\",\"shape\":[{f32}],\"data_offsets\":[0,{a}]}},"
            + $"\"b\":{{\"dtype\":\"BF16\",\"shape\":[{bf16}],\"data_offsets\":[{a},{b}]}},"
            + $"\"c\":{{\"dtype\":\"F16\",\"shape\":[{f16}],\"data_offsets\":[{b},{c}]}}}}";
        var bytes = Build(header, (int)c);
        int d = bytes.Length - (int)c;
        var rng = new Rng(42);
        var expectedA = Tensor.Normal(rng, 0, 1, f32).ToArray();
        var expectedB = new[] { 1f, -2f, 0.5f, 3f, -0.125f };
        var expectedC = Tensor.Normal(rng, 0, 1, f16).ToArray().Select(x => (float)(Half)x).ToArray();
        for (int i = 0; i < f32; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(d + 4 * i), expectedA[i]);
        for (int i = 0; i < bf16; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(d + (int)a + 2 * i), (ushort)(BitConverter.SingleToInt32Bits(expectedB[i]) >> 16));
        for (int i = 0; i < f16; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(d + (int)b + 2 * i), BitConverter.HalfToUInt16Bits((Half)expectedC[i]));
        Assert.True(bytes.Length > 4 * SafetensorsFile.ChunkBytes);
        foreach (var mode in new[] { Mode.Parse, Mode.Open })
            Load(mode, "large.safetensors", bytes, f =>
            {
                Assert.Equal(expectedC, f.ReadFloats("c"));   // out of file order: reads are independent
                Assert.Equal(expectedA, f.ReadFloats("a"));
                Assert.Equal(expectedB, f.ReadFloats("b"));
                var into = new float[f32];
                f.ReadFloats("a", into);
                Assert.Equal(expectedA, into);
                Assert.Contains("destination", Assert.Throws<ArgumentException>(() => f.ReadFloats("a", new float[3])).Message);
            });
    }

    [Fact]
    public void An_opened_file_matches_Read_on_a_written_file_and_refuses_reads_after_dispose()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            var w = Tensor.Normal(new Rng(1), 0, 1, 33, 7);
            SafetensorsWriter.Write(path, [("w", w)], new Dictionary<string, string> { ["format"] = "pt" });
            var read = SafetensorsFile.Read(path);
            var opened = SafetensorsFile.Open(path);
            Assert.False(read.IsMapped);
            Assert.Equal(read.Names, opened.Names);
            Assert.Equal(new[] { 33, 7 }, opened["w"].Shape);
            Assert.Equal("pt", opened.Metadata["format"]);
            Assert.Equal(read.ReadFloats("w"), opened.ReadFloats("w"));
            Assert.Equal(w.ToArray(), opened.ReadFloats("w"));
            opened.Dispose();
            opened.Dispose();   // idempotent
            Assert.Throws<ObjectDisposedException>(() => opened.ReadFloats("w"));
            File.Delete(path);   // the mapping no longer holds the file
            Assert.False(File.Exists(path));
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
            using (var mapped = SafetensorsFile.Open(path))
            {
                Assert.Equal(q, mapped.ReadInt8("a.q"));
                Assert.Equal(q.Select(v => (float)v).ToArray(), mapped.ReadFloats("a.q"));
                Assert.Equal(scale, mapped.ReadFloats("b.scale"));
            }
        }
        finally { File.Delete(path); }
    }
}
