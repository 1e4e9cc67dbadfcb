using System.Text.Json;
using RewardKit.Text;

namespace RewardKit.Text.Tests;

public sealed class TokenizerFilesTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-tok-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string PathOf(string name) => Path.Combine(_dir, name);

    static void AssertSameEncoding(ByteLevelBpeTokenizer expected, ByteLevelBpeTokenizer actual, IEnumerable<string> texts)
    {
        Assert.Equal(expected.VocabSize, actual.VocabSize);
        Assert.Equal(expected.Merges, actual.Merges);
        Assert.Equal(expected.EndOfTextId, actual.EndOfTextId);
        Assert.Equal(expected.PadId, actual.PadId);
        foreach (var t in texts)
        {
            Assert.Equal(expected.Encode(t), actual.Encode(t));
            Assert.Equal(expected.Encode(t, allowSpecial: true), actual.Encode(t, allowSpecial: true));
        }
    }

    [Fact]
    public void A_trained_tokenizer_round_trips_through_tokenizer_json()
    {
        var tok = TestCorpus.Tokenizer;
        tok.SaveTokenizerJson(PathOf("tokenizer.json"));
        var back = ByteLevelBpeTokenizer.FromTokenizerJson(PathOf("tokenizer.json"));
        AssertSameEncoding(tok, back, TestCorpus.Texts.Take(50).Append("x<|endoftext|>y<|pad|>"));
    }

    [Fact]
    public void Save_writes_files_that_load_as_vocab_and_merges_too()
    {
        var tok = TestCorpus.Tokenizer;
        tok.Save(_dir);
        foreach (var f in new[] { "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.True(File.Exists(PathOf(f)), f);
        var fromPair = ByteLevelBpeTokenizer.FromGpt2Files(PathOf("vocab.json"), PathOf("merges.txt"));
        AssertSameEncoding(tok, fromPair, TestCorpus.Texts.Take(50));
        using var config = JsonDocument.Parse(File.ReadAllText(PathOf("tokenizer_config.json")));
        Assert.Equal("<|pad|>", config.RootElement.GetProperty("pad_token").GetString());
        Assert.Equal("<|endoftext|>", config.RootElement.GetProperty("eos_token").GetString());
    }

    [Fact]
    public void Tokenizer_json_has_the_hugging_face_byte_level_bpe_shape()
    {
        TestCorpus.Tokenizer.SaveTokenizerJson(PathOf("tokenizer.json"));
        using var doc = JsonDocument.Parse(File.ReadAllText(PathOf("tokenizer.json")));
        var root = doc.RootElement;
        Assert.Equal("BPE", root.GetProperty("model").GetProperty("type").GetString());
        Assert.Equal("ByteLevel", root.GetProperty("pre_tokenizer").GetProperty("type").GetString());
        Assert.False(root.GetProperty("pre_tokenizer").GetProperty("add_prefix_space").GetBoolean());
        Assert.Equal("ByteLevel", root.GetProperty("decoder").GetProperty("type").GetString());
        var added = root.GetProperty("added_tokens").EnumerateArray().Select(a => a.GetProperty("content").GetString()).ToList();
        Assert.Equal(["<|endoftext|>", "<|pad|>"], added);
        Assert.Equal(TestCorpus.Tokenizer.VocabSize, root.GetProperty("model").GetProperty("vocab").EnumerateObject().Count());
    }

    [Fact]
    public void Merges_written_as_pairs_by_newer_tokenizers_are_read()
    {
        TestCorpus.Tokenizer.SaveTokenizerJson(PathOf("tokenizer.json"));
        var text = File.ReadAllText(PathOf("tokenizer.json"));
        var node = System.Text.Json.Nodes.JsonNode.Parse(text)!;
        var merges = node["model"]!["merges"]!.AsArray();
        var pairs = new System.Text.Json.Nodes.JsonArray();
        foreach (var m in merges)
        {
            var parts = m!.GetValue<string>().Split(' ');
            pairs.Add(new System.Text.Json.Nodes.JsonArray(parts[0], parts[1]));
        }
        node["model"]!["merges"] = pairs;
        File.WriteAllText(PathOf("tokenizer.json"), node.ToJsonString());
        AssertSameEncoding(TestCorpus.Tokenizer, ByteLevelBpeTokenizer.FromTokenizerJson(PathOf("tokenizer.json")), TestCorpus.Texts.Take(20));
    }

    [SharedDataFact]
    public void Gpt2_saved_as_tokenizer_json_encodes_the_same()
    {
        var gpt2 = Gpt2.Tokenizer;
        gpt2.Save(_dir);
        var back = ByteLevelBpeTokenizer.FromDirectory(_dir);
        AssertSameEncoding(gpt2, back, ["Hello world", " it's 🦙 <|endoftext|>", "\n\nHuman: hi\n\nAssistant: hello"]);
    }

    [Fact]
    public void A_missing_directory_says_which_files_are_expected()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => ByteLevelBpeTokenizer.FromDirectory(PathOf("nope")));
        Assert.Contains("tokenizer.json", e.Message);
        var empty = Assert.Throws<FileNotFoundException>(() => ByteLevelBpeTokenizer.FromDirectory(_dir));
        Assert.Contains("vocab.json + merges.txt", empty.Message);
    }

    [Fact]
    public void Invalid_json_names_the_file_and_line()
    {
        File.WriteAllText(PathOf("vocab.json"), "{\n \"a\": 0,\n oops }");
        File.WriteAllText(PathOf("merges.txt"), "#version: 0.2\n");
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.FromGpt2Files(PathOf("vocab.json"), PathOf("merges.txt")));
        Assert.Contains("vocab.json", e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void A_bad_merge_line_names_file_and_line()
    {
        TestCorpus.Tokenizer.Save(_dir);
        var lines = File.ReadAllLines(PathOf("merges.txt")).ToList();
        lines.Insert(3, "only-one-token");
        File.WriteAllLines(PathOf("merges.txt"), lines);
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.FromGpt2Files(PathOf("vocab.json"), PathOf("merges.txt")));
        Assert.Contains("merges.txt:4", e.Message);
    }

    [Fact]
    public void A_merge_whose_result_is_not_in_the_vocabulary_says_the_files_do_not_belong_together()
    {
        TestCorpus.Tokenizer.Save(_dir);
        File.AppendAllText(PathOf("merges.txt"), "Ā Ā\n"); // two NUL bytes: never merged in the corpus
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.FromGpt2Files(PathOf("vocab.json"), PathOf("merges.txt")));
        Assert.Contains("do not belong together", e.Message);
    }

    [Fact]
    public void A_vocabulary_without_all_bytes_is_refused()
    {
        File.WriteAllText(PathOf("vocab.json"), "{\"a\": 0, \"b\": 1}");
        File.WriteAllText(PathOf("merges.txt"), "");
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.FromGpt2Files(PathOf("vocab.json"), PathOf("merges.txt")));
        Assert.Contains("256 bytes", e.Message);
    }

    [Fact]
    public void A_tokenizer_json_that_is_not_byte_level_bpe_is_refused_with_the_field()
    {
        File.WriteAllText(PathOf("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.FromTokenizerJson(PathOf("tokenizer.json")));
        Assert.Contains("model.type", e.Message);
    }
}
