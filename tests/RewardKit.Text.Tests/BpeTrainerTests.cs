using System.Text;
using RewardKit.Text;

namespace RewardKit.Text.Tests;

public class BpeTrainerTests
{
    /// <summary>
    /// The naive reference: recount every pair from scratch before each merge, take the most frequent (ties to the
    /// smaller (left, right) ids), apply it to every word. The fast trainer must give the same merges.
    /// </summary>
    static List<(int, int)> NaiveMerges(IEnumerable<string> texts, BpeTrainerOptions options)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var t in texts)
        {
            var b = Encoding.UTF8.GetBytes(t);
            foreach (var (o, l) in Gpt2PreTokenizer.Split(b))
            {
                var key = Convert.ToBase64String(b, o, l);
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }
        int first = options.SpecialTokens.Count;
        var tokens = new List<byte[]>();
        for (int i = 0; i < first; i++) tokens.Add(Encoding.UTF8.GetBytes(options.SpecialTokens[i]));
        for (int b = 0; b < 256; b++) tokens.Add([(byte)b]);
        var words = counts.Select(kv => (Sym: Convert.FromBase64String(kv.Key).Select(x => first + x).ToList(), Count: kv.Value)).ToList();
        var merges = new List<(int, int)>();
        while (tokens.Count < options.VocabSize)
        {
            var pairs = new Dictionary<(int, int), long>();
            foreach (var (sym, c) in words)
                for (int i = 0; i + 1 < sym.Count; i++)
                    pairs[(sym[i], sym[i + 1])] = pairs.GetValueOrDefault((sym[i], sym[i + 1])) + c;
            if (pairs.Count == 0) break;
            var best = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1).ThenBy(p => p.Key.Item2).First();
            if (best.Value < options.MinFrequency) break;
            var (l, r) = best.Key;
            byte[] joined = [.. tokens[l], .. tokens[r]];
            int id = tokens.FindIndex(first, t => t.AsSpan().SequenceEqual(joined));
            if (id < 0) { id = tokens.Count; tokens.Add(joined); }
            merges.Add((l, r));
            foreach (var (sym, _) in words)
                for (int i = 0; i + 1 < sym.Count; i++)
                    if (sym[i] == l && sym[i + 1] == r) { sym[i] = id; sym.RemoveAt(i + 1); }
        }
        return merges;
    }

    [Fact]
    public void Training_gives_the_same_merges_as_the_naive_reference()
    {
        var options = new BpeTrainerOptions { VocabSize = 420, MinFrequency = 2 };
        var fast = BpeTrainer.Train(TestCorpus.Texts, options);
        Assert.Equal(NaiveMerges(TestCorpus.Texts, options), fast.Merges);
    }

    [Fact]
    public void Repeated_pairs_such_as_aaaa_merge_like_the_reference()
    {
        string[] texts = ["aaaa aaaaaaa", "abab abababab", "aaa", "baaab"];
        var options = new BpeTrainerOptions { VocabSize = 280, MinFrequency = 1 };
        Assert.Equal(NaiveMerges(texts, options), BpeTrainer.Train(texts, options).Merges);
    }

    [Fact]
    public void Training_is_deterministic_and_independent_of_threads()
    {
        var one = BpeTrainer.Train(TestCorpus.Texts, new BpeTrainerOptions { VocabSize = 500, Threads = 1 });
        var two = BpeTrainer.Train(TestCorpus.Texts, new BpeTrainerOptions { VocabSize = 500, Threads = 2 });
        var again = BpeTrainer.Train(TestCorpus.Texts, new BpeTrainerOptions { VocabSize = 500, Threads = 2 });
        Assert.Equal(one.Merges, two.Merges);
        Assert.Equal(two.Merges, again.Merges);
        Assert.Equal(one.VocabSize, two.VocabSize);
    }

    [Fact]
    public void The_trained_vocabulary_has_the_asked_size_with_distinct_end_of_text_and_pad()
    {
        var tok = TestCorpus.Tokenizer;
        Assert.Equal(450, tok.VocabSize);
        Assert.Equal(0, tok.EndOfTextId);
        Assert.Equal(1, tok.PadId);
        Assert.Equal([tok.EndOfTextId, tok.PadId, .. tok.Encode("hi")], tok.Encode("<|endoftext|><|pad|>hi", allowSpecial: true));
    }

    [Fact]
    public void Training_compresses_the_corpus()
    {
        var tok = TestCorpus.Tokenizer;
        long bytes = TestCorpus.Texts.Sum(t => Encoding.UTF8.GetByteCount(t));
        long tokens = TestCorpus.Texts.Sum(t => tok.Encode(t).Length);
        Assert.True(tokens * 2 < bytes, $"{tokens} tokens for {bytes} bytes");
    }

    [Fact]
    public void Min_frequency_stops_training_before_the_vocabulary_is_full()
    {
        // "hello" occurs twice (as "hello" and " hello"), " world" once: only the pairs inside hello reach 2.
        var tok = BpeTrainer.Train(["hello hello world"], new BpeTrainerOptions { VocabSize = 1000, MinFrequency = 2 });
        Assert.True(tok.VocabSize < 1000);
        Assert.Single(tok.Encode("hello"));
        Assert.Equal(6, tok.Encode(" world").Length);
    }

    [Theory]
    [InlineData(100, 2, "VocabSize")]
    [InlineData(1000, 0, "MinFrequency")]
    public void Bad_options_name_the_field(int vocab, int minFrequency, string field)
    {
        var e = Assert.Throws<ArgumentException>(() => new BpeTrainer(new BpeTrainerOptions { VocabSize = vocab, MinFrequency = minFrequency }));
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void A_special_token_listed_twice_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new BpeTrainerOptions { SpecialTokens = ["<|a|>", "<|a|>"] }.Validate());
        Assert.Contains("twice", e.Message);
    }
}
