using System.Text;
using System.Text.Json;
using RewardKit.Text;

namespace RewardKit.Text.Tests;

public class ByteLevelBpeTokenizerTests
{
    public static IEnumerable<object[]> ReferenceRecords()
    {
        if (SharedData.Directory is null) yield break;
        int line = 0;
        foreach (var json in File.ReadLines(SharedData.PathOf("tokenizers/gpt2/expected_ids.jsonl")))
        {
            line++;
            if (json.Length > 0) yield return [line];
        }
    }

    static (string Text, int[] Ids) Record(int line)
    {
        var json = File.ReadLines(SharedData.PathOf("tokenizers/gpt2/expected_ids.jsonl")).ElementAt(line - 1);
        using var doc = JsonDocument.Parse(json);
        var text = doc.RootElement.GetProperty("text").GetString()!;
        var ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        return (text, ids);
    }

    [SharedDataFact]
    public void All_97_reference_records_encode_to_the_reference_ids_and_decode_back()
    {
        var tok = Gpt2.Tokenizer;
        int count = 0;
        var failures = new List<string>();
        foreach (var row in ReferenceRecords())
        {
            var (text, expected) = Record((int)row[0]);
            var ids = tok.Encode(text);
            if (!ids.SequenceEqual(expected))
                failures.Add($"line {row[0]}: {JsonSerializer.Serialize(text)}\n  expected [{string.Join(",", expected)}]\n  got      [{string.Join(",", ids)}]");
            else if (tok.Decode(ids) != text)
                failures.Add($"line {row[0]}: decode differs");
            count++;
        }
        Assert.Equal(97, count);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [SharedDataFact]
    public void Fixture_strings_encode_to_the_ids_openai_encoder_py_computes()
    {
        var tok = Gpt2.Tokenizer;
        var failures = PythonRegexFixture.Cases()
            .Where(c => !tok.Encode(c.Text).SequenceEqual(c.Ids))
            .Select(c => $"{JsonSerializer.Serialize(c.Text)}: expected [{string.Join(",", c.Ids)}] got [{string.Join(",", tok.Encode(c.Text))}]")
            .ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [SharedDataFact]
    public void The_gpt2_files_have_50257_tokens_plus_a_distinct_pad()
    {
        var tok = Gpt2.Tokenizer;
        Assert.Equal(50256, tok.EndOfTextId);
        Assert.Equal(50257, tok.PadId);
        Assert.Equal(50258, tok.VocabSize);
    }

    [SharedDataFact]
    public void End_of_text_is_plain_text_unless_special_tokens_are_allowed()
    {
        var tok = Gpt2.Tokenizer;
        var text = "Hi<|endoftext|> there";
        var plain = tok.Encode(text);
        Assert.DoesNotContain(tok.EndOfTextId, plain);
        Assert.Equal(text, tok.Decode(plain));

        var special = tok.Encode(text, allowSpecial: true);
        Assert.Equal([.. tok.Encode("Hi"), tok.EndOfTextId, .. tok.Encode(" there")], special);
        Assert.Equal(text, tok.Decode(special));
    }

    [SharedDataFact]
    public void Encoding_bytes_keeps_invalid_utf8()
    {
        var tok = Gpt2.Tokenizer;
        byte[] bytes = [0x48, 0x69, 0xFF, 0xC3, 0x20, 0xE2, 0x82, 0x20, 0x61, 0x80];
        Assert.Equal(bytes, tok.DecodeBytes(tok.Encode(bytes)));
    }

    [SharedDataFact]
    public void Encoding_bytes_and_the_string_agree_on_valid_text()
    {
        var tok = Gpt2.Tokenizer;
        const string text = "Héllo wörld 123 🦙 it's   fine\n\n";
        Assert.Equal(tok.Encode(text), tok.Encode(Encoding.UTF8.GetBytes(text)));
    }

    [SharedDataFact]
    public void A_batch_encodes_like_one_text_at_a_time_with_one_or_two_threads()
    {
        var tok = Gpt2.Tokenizer;
        var texts = Enumerable.Range(0, 300).Select(i => $"Record {i}: the quick brown fox {i * 7919} jumps\n").ToList();
        var one = tok.EncodeBatch(texts, threads: 1);
        var two = tok.EncodeBatch(texts, threads: 2);
        for (int i = 0; i < texts.Count; i++)
        {
            Assert.Equal(tok.Encode(texts[i]), one[i]);
            Assert.Equal(one[i], two[i]);
        }
    }

    [SharedDataFact]
    public void A_long_piece_without_spaces_encodes_and_decodes()
    {
        var tok = Gpt2.Tokenizer;
        var text = string.Concat(Enumerable.Repeat("abcdefghij", 200));
        Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [SharedDataFact]
    public void Decoding_an_id_outside_the_vocabulary_names_it()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Gpt2.Tokenizer.DecodeBytes([1, 2, 999_999]));
        Assert.Contains("999999", e.Message);
        Assert.Contains("position 2", e.Message);
    }
}

public class HeapMergeTests
{
    public static IEnumerable<object[]> Pieces()
    {
        var rng = new Random(11);
        string[] alphabets = ["ab", "abc", "aab ", "abcdefghijklmnopqrstuvwxyz", "etaoin shrdlu", "0123456789", "!?.,"];
        for (int k = 0; k < 40; k++)
        {
            var alphabet = alphabets[k % alphabets.Length];
            int n = rng.Next(1, 400);
            yield return [new string(Enumerable.Range(0, n).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray())];
        }
        yield return [new string('a', 333)];
        yield return [string.Concat(Enumerable.Repeat("ab", 150))];
    }

    [SharedDataTheory]
    [MemberData(nameof(Pieces))]
    public void The_heap_merge_equals_the_reference_loop_on_gpt2(string piece)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(piece);
        Assert.Equal(Gpt2.Tokenizer.MergeReferenceForTests(bytes), Gpt2.Tokenizer.MergeWithHeapForTests(bytes));
    }

    [Theory]
    [MemberData(nameof(Pieces))]
    public void The_heap_merge_equals_the_reference_loop_on_a_trained_vocabulary(string piece)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(piece);
        Assert.Equal(TestCorpus.Tokenizer.MergeReferenceForTests(bytes), TestCorpus.Tokenizer.MergeWithHeapForTests(bytes));
    }
}

public class MergeCacheTests
{
    [Fact]
    public void A_tiny_merge_cache_that_keeps_clearing_gives_the_same_ids()
    {
        var tok = TestCorpus.Tokenizer;
        var tokens = Enumerable.Range(0, tok.VocabSize).Select(id => tok.TokenBytes(id).ToArray()).ToList();
        var tiny = new ByteLevelBpeTokenizer(tokens, tok.Merges, tok.SpecialTokens, mergeCacheCapacity: 2);
        foreach (var text in TestCorpus.Texts.Take(100))
            Assert.Equal(tok.Encode(text), tiny.Encode(text));
        var batch = tiny.EncodeBatch(TestCorpus.Texts, threads: 2);
        for (int i = 0; i < TestCorpus.Texts.Count; i++)
            Assert.Equal(tok.Encode(TestCorpus.Texts[i]), batch[i]);
    }

    [Fact]
    public void A_vocabulary_missing_a_byte_is_refused_by_the_constructor()
    {
        var tokens = Enumerable.Range(0, 255).Select(b => new[] { (byte)b }).ToList();
        var e = Assert.Throws<ArgumentException>(() => new ByteLevelBpeTokenizer(tokens, [], []));
        Assert.Contains("0xFF", e.Message);
    }
}
