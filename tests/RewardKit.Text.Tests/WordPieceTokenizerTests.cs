namespace RewardKit.Text.Tests;

public class WordPieceTokenizerTests
{
    static readonly string[] Vocabulary =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", "world", ",", "!", "cafe", "東", "京",
        "a", "##b", "##c", "abc", "σοφος", "ς", "run", "##ning", "'", "s",
    ];

    static WordPieceTokenizer Tokenizer() => new(Vocabulary);

    [Fact]
    public void Basic_tokenization_lowers_strips_accents_splits_punctuation_and_spaces_cjk()
    {
        Assert.Equal(["hello", ",", "world", "!"], WordPieceTokenizer.BasicTokenize("Hello,  WORLD!"));
        Assert.Equal(["cafe", "naive"], WordPieceTokenizer.BasicTokenize("Café naïve"));
        Assert.Equal(["東", "京", "x"], WordPieceTokenizer.BasicTokenize("東京x"));
        Assert.Equal(["a", "b"], WordPieceTokenizer.BasicTokenize("a\u0000\u200b\tb\u0007"));       // NUL, format and control characters go
        Assert.Equal(["a", "b", "c"], WordPieceTokenizer.BasicTokenize("a\u2028b\u00a0c"));          // line separator and NBSP split
    }

    [Fact]
    public void Final_sigma_lowers_as_python_does()
    {
        Assert.Equal(["\u03bf\u03b4\u03bf\u03c2"], WordPieceTokenizer.BasicTokenize("\u039f\u0394\u039f\u03a3"));   // ΟΔΟΣ → οδος: ς at the end of a word
        Assert.Equal(["\u03c3\u03bf\u03c6\u03bf\u03c2"], WordPieceTokenizer.BasicTokenize("\u03a3\u039f\u03a6\u039f\u03a3"));   // ΣΟΦΟΣ → σοφος
        Assert.Equal(["\u03c3"], WordPieceTokenizer.BasicTokenize("\u03a3"));   // Σ alone → σ
    }

    [Fact]
    public void Wordpiece_takes_the_longest_match_from_the_left_and_unknown_words_become_one_unk()
    {
        var t = Tokenizer();
        Assert.Equal(["un", "##aff", "##able"], t.Tokenize("unaffable"));
        Assert.Equal(["abc"], t.Tokenize("abc"));
        Assert.Equal(["a", "##b", "##b"], t.Tokenize("abb"));
        Assert.Equal(["[UNK]"], t.Tokenize("abx"));                                    // no partial pieces of an unknown word
        Assert.Equal(["run", "##ning", "[UNK]", "!"], t.Tokenize("Running zzz!"));
        Assert.Equal(["[UNK]"], t.Tokenize(new string('a', 101)));                      // over 100 characters
        Assert.Equal(["[UNK]", "[UNK]", "[UNK]"], t.Tokenize("[SEP]"));                // plain text "[", "sep", "]", never the special token
    }

    [Fact]
    public void Special_ids_come_from_the_vocabulary_and_a_vocabulary_without_them_is_refused()
    {
        var t = Tokenizer();
        Assert.Equal((0, 1, 2, 3, 4), (t.PadId, t.UnknownId, t.ClsId, t.SepId, t.MaskId));
        var e = Assert.Throws<ArgumentException>(() => new WordPieceTokenizer(["a", "b"]));
        Assert.Contains("[PAD]", e.Message);
    }

    [Fact]
    public void Saved_files_reload_to_the_same_ids_and_include_a_fast_tokenizer_json()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wp-" + Guid.NewGuid().ToString("N"));
        try
        {
            Tokenizer().Save(dir);
            var again = WordPieceTokenizer.FromFile(dir);
            Assert.Equal(Tokenizer().Encode("Unaffable café, world!"), again.Encode("Unaffable café, world!"));
            foreach (var f in new[] { "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
                Assert.True(File.Exists(Path.Combine(dir, f)), f);
            Assert.Contains("\"BertNormalizer\"", File.ReadAllText(Path.Combine(dir, "tokenizer.json")));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}

public class CrossEncoderSequenceEncoderTests
{
    static readonly WordPieceTokenizer Tokenizer = new(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "d"]);

    [Fact]
    public void A_pair_becomes_cls_prompt_sep_response_sep_with_the_response_start_after_the_first_sep()
    {
        var encoder = new CrossEncoderSequenceEncoder(Tokenizer, new SequenceOptions { MaxLength = 32 });
        var s = encoder.Encode("a b", "c d")!;
        Assert.Equal([2, 5, 6, 3, 7, 8, 3], s.Ids);
        Assert.Equal(4, s.ResponseStart);
        Assert.False(s.Truncation.Truncated);
    }

    [Fact]
    public void Long_pairs_keep_the_end_of_the_prompt_and_the_start_of_the_response_and_report_the_cut()
    {
        var encoder = new CrossEncoderSequenceEncoder(Tokenizer, new SequenceOptions { MaxLength = 7 });
        var report = new TruncationReport();
        var s = encoder.Encode("a b c d", "a b", report)!;
        Assert.Equal([2, 7, 8, 3, 5, 6, 3], s.Ids);                 // prompt "c d" (its end), response kept whole
        Assert.Equal(2, s.Truncation.PromptTokensRemoved);
        var r = encoder.Encode("a", "a b c d d d", report)!;
        Assert.Equal([2, 3, 5, 6, 7, 8, 3], r.Ids);                 // the prompt gives way first, then the response's end
        Assert.Equal(2, report.PromptTruncated);
        Assert.Equal(1, report.ResponseTruncated);
    }

    [Fact]
    public void Options_that_cannot_apply_are_refused_with_the_reason()
    {
        Assert.Throws<ArgumentException>(() => new CrossEncoderSequenceEncoder(Tokenizer, new SequenceOptions { MaxLength = 3 }));
        Assert.Throws<ArgumentException>(() => new CrossEncoderSequenceEncoder(Tokenizer, new SequenceOptions { AppendEndOfText = true }));
    }
}
