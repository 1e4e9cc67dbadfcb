using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RewardKit.Text;

/// <summary>
/// BERT's uncased WordPiece tokenizer, as Hugging Face's <c>BertTokenizer</c> (do_lower_case, tokenize_chinese_chars,
/// strip_accents unset, so following lower-casing) computes it:
/// <code>
/// basic:  clean (drop NUL, U+FFFD and control characters; whitespace → ' '), spaces around CJK ideographs,
///         split on whitespace, per token lower-case and strip accents (NFD without Mn), split off punctuation
/// wordpiece: per word of ≤ 100 characters, greedy longest match from the left, continuations prefixed "##";
///         a word with an unmatched remainder becomes [UNK]
/// </code>
/// Lower-casing and accent stripping use a table made from Python's <c>str.lower</c> and <c>unicodedata</c>
/// (tools/bert_normalization_table.py), so they do not depend on the process's globalisation mode. Thread-safe.
/// </summary>
public sealed class WordPieceTokenizer
{
    /// <summary>The file holding one token per line (line number = id).</summary>
    public const string VocabFileName = "vocab.txt";

    const int MaxInputCharsPerWord = 100;
    const string Continuation = "##";

    readonly string[] _idToToken;
    readonly Dictionary<string, int> _tokenToId;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>A tokenizer over <paramref name="vocabulary"/> (id = index), which must hold [PAD], [UNK], [CLS], [SEP] and [MASK].</summary>
    public WordPieceTokenizer(IReadOnlyList<string> vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        _idToToken = [.. vocabulary];
        _tokenToId = new Dictionary<string, int>(_idToToken.Length, StringComparer.Ordinal);
        for (int id = 0; id < _idToToken.Length; id++) _tokenToId.TryAdd(_idToToken[id], id);
        _lookup = _tokenToId.GetAlternateLookup<ReadOnlySpan<char>>();
        int Special(string token) => _tokenToId.TryGetValue(token, out int id) ? id
            : throw new ArgumentException($"WordPieceTokenizer: the vocabulary has no {token} token; is this a BERT vocab.txt?", nameof(vocabulary));
        PadId = Special("[PAD]");
        UnknownId = Special("[UNK]");
        ClsId = Special("[CLS]");
        SepId = Special("[SEP]");
        MaskId = Special("[MASK]");
    }

    /// <summary>Reads a <c>vocab.txt</c> (one token per line) from a file or from a folder holding one.</summary>
    public static WordPieceTokenizer FromFile(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, VocabFileName) : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: no WordPiece vocabulary ({VocabFileName}) found.", file);
        var lines = File.ReadAllLines(file, Encoding.UTF8);
        int count = lines.Length;
        while (count > 0 && lines[count - 1].Length == 0) count--;   // a trailing newline is not a token
        return new WordPieceTokenizer(lines.AsSpan(0, count).ToArray());
    }

    /// <summary>The number of tokens.</summary>
    public int VocabSize => _idToToken.Length;

    /// <summary>The id of [PAD].</summary>
    public int PadId { get; }

    /// <summary>The id of [UNK].</summary>
    public int UnknownId { get; }

    /// <summary>The id of [CLS], the first token of every sequence.</summary>
    public int ClsId { get; }

    /// <summary>The id of [SEP], which ends each segment.</summary>
    public int SepId { get; }

    /// <summary>The id of [MASK].</summary>
    public int MaskId { get; }

    /// <summary>The token of <paramref name="id"/>.</summary>
    public string TokenOf(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id]
        : throw new ArgumentOutOfRangeException(nameof(id), $"id {id} is outside the vocabulary of {_idToToken.Length}.");

    /// <summary>The ids of <paramref name="text"/>, without [CLS]/[SEP] (special tokens in the text are plain text).</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 4 + 4);
        foreach (var word in BasicTokenize(text)) WordPiece(word, ids);
        return [.. ids];
    }

    /// <summary>The tokens of <paramref name="text"/> (for inspection and tests).</summary>
    public string[] Tokenize(string text) => [.. Encode(text).Select(TokenOf)];

    /// <summary>BERT's BasicTokenizer: the words WordPiece then splits.</summary>
    public static List<string> BasicTokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new List<string>();
        var token = new StringBuilder();
        var normalized = new StringBuilder();
        // Clean + CJK spacing + whitespace split in one pass: a token is a maximal run of kept, non-space characters.
        for (int i = 0; i < text.Length;)
        {
            int cp = CodePoints.At(text, i, out int width);
            i += width;
            if (cp == 0 || cp == 0xFFFD || IsControl(cp)) continue;
            if (IsWhitespace(cp)) { Flush(); continue; }
            if (IsCjk(cp)) { Flush(); token.Append(char.ConvertFromUtf32(cp)); Flush(); continue; }
            token.Append(text, i - width, width);
        }
        Flush();
        return words;

        void Flush()
        {
            if (token.Length == 0) return;
            normalized.Clear();
            BertNormalization.LowerAndStrip(token.ToString(), normalized);
            token.Clear();
            SplitOnPunctuation(normalized, words);
        }
    }

    static void SplitOnPunctuation(StringBuilder text, List<string> words)
    {
        var s = text.ToString();
        int start = 0;
        for (int i = 0; i < s.Length;)
        {
            int cp = CodePoints.At(s, i, out int width);
            if (IsPunctuation(cp))
            {
                if (i > start) words.Add(s[start..i]);
                words.Add(s.Substring(i, width));
                start = i + width;
            }
            i += width;
        }
        if (start < s.Length) words.Add(s[start..]);
    }

    void WordPiece(string word, List<int> ids)
    {
        int chars = 0;
        foreach (var _ in word.EnumerateRunes()) chars++;
        if (chars > MaxInputCharsPerWord) { ids.Add(UnknownId); return; }
        int mark = ids.Count;
        var buffer = new char[word.Length + 2];
        buffer[0] = '#'; buffer[1] = '#';
        for (int start = 0; start < word.Length;)
        {
            int end = word.Length, found = -1;
            while (start < end)
            {
                ReadOnlySpan<char> piece;
                if (start == 0) piece = word.AsSpan(0, end);
                else
                {
                    word.AsSpan(start, end - start).CopyTo(buffer.AsSpan(2));
                    piece = buffer.AsSpan(0, end - start + 2);
                }
                if (_lookup.TryGetValue(piece, out int id)) { found = id; break; }
                end--;
                if (end > start && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1])) end--;   // whole code points only
            }
            if (found < 0)
            {
                ids.RemoveRange(mark, ids.Count - mark);
                ids.Add(UnknownId);
                return;
            }
            ids.Add(found);
            start = end;
        }
    }

    /// <summary>
    /// Writes <c>vocab.txt</c>, <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c> and a <c>tokenizer.json</c>
    /// (BertNormalizer, BertPreTokenizer, WordPiece, the [CLS] A [SEP] B [SEP] template) into <paramref name="directory"/>,
    /// so Hugging Face's <c>AutoTokenizer</c> opens the folder.
    /// </summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, VocabFileName), string.Join("\n", _idToToken) + "\n");
        var special = new Dictionary<string, string>
        {
            ["unk_token"] = "[UNK]", ["sep_token"] = "[SEP]", ["pad_token"] = "[PAD]", ["cls_token"] = "[CLS]", ["mask_token"] = "[MASK]",
        };
        var indented = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(directory, "special_tokens_map.json"), JsonSerializer.Serialize(special, indented));
        var config = new Dictionary<string, object>(special.ToDictionary(p => p.Key, p => (object)p.Value))
        {
            ["tokenizer_class"] = "BertTokenizer", ["do_lower_case"] = true, ["tokenize_chinese_chars"] = true,
            ["strip_accents"] = null!, ["model_max_length"] = 512,
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), JsonSerializer.Serialize(config, indented));
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), JsonSerializer.Serialize(FastTokenizerJson(), indented));
    }

    object FastTokenizerJson()
    {
        object Added(int id) => new { id, content = _idToToken[id], single_word = false, lstrip = false, rstrip = false, normalized = false, special = true };
        var vocab = new Dictionary<string, int>(_tokenToId);
        return new
        {
            version = "1.0",
            truncation = (object?)null,
            padding = (object?)null,
            added_tokens = new[] { Added(PadId), Added(UnknownId), Added(ClsId), Added(SepId), Added(MaskId) },
            normalizer = new { type = "BertNormalizer", clean_text = true, handle_chinese_chars = true, strip_accents = (bool?)null, lowercase = true },
            pre_tokenizer = new { type = "BertPreTokenizer" },
            post_processor = new
            {
                type = "TemplateProcessing",
                single = new object[] { new { SpecialToken = new { id = "[CLS]", type_id = 0 } }, new { Sequence = new { id = "A", type_id = 0 } }, new { SpecialToken = new { id = "[SEP]", type_id = 0 } } },
                pair = new object[]
                {
                    new { SpecialToken = new { id = "[CLS]", type_id = 0 } }, new { Sequence = new { id = "A", type_id = 0 } }, new { SpecialToken = new { id = "[SEP]", type_id = 0 } },
                    new { Sequence = new { id = "B", type_id = 1 } }, new { SpecialToken = new { id = "[SEP]", type_id = 1 } },
                },
                special_tokens = new Dictionary<string, object>
                {
                    ["[CLS]"] = new { id = "[CLS]", ids = new[] { ClsId }, tokens = new[] { "[CLS]" } },
                    ["[SEP]"] = new { id = "[SEP]", ids = new[] { SepId }, tokens = new[] { "[SEP]" } },
                },
            },
            decoder = new { type = "WordPiece", prefix = Continuation, cleanup = true },
            model = new { type = "WordPiece", unk_token = "[UNK]", continuing_subword_prefix = Continuation, max_input_chars_per_word = MaxInputCharsPerWord, vocab },
        };
    }

    // ---- character classes, as transformers' tokenization_utils (_is_whitespace, _is_control, _is_punctuation) ----

    // _is_whitespace (space, \t, \n, \r, Zs), plus the line and paragraph separators that Python's str.split() also splits on.
    static bool IsWhitespace(int cp) =>
        cp is ' ' or '\t' or '\n' or '\r'
        || CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    static bool IsControl(int cp)
    {
        if (cp is '\t' or '\n' or '\r') return false;
        var c = CharUnicodeInfo.GetUnicodeCategory(cp);
        return c is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;
    }

    static bool IsPunctuation(int cp)
    {
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>The CJK Unified Ideographs blocks of BERT's <c>_is_chinese_char</c>.</summary>
    static bool IsCjk(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}

/// <summary>Per-code-point lower-casing and accent stripping of uncased BERT, from the table made by tools/bert_normalization_table.py.</summary>
static class BertNormalization
{
    static readonly Dictionary<int, string> Table = Load();

    /// <summary>Appends lower(strip(token)) as Python computes it for a whitespace token.</summary>
    public static void LowerAndStrip(string token, StringBuilder output)
    {
        for (int i = 0; i < token.Length;)
        {
            int cp = CodePoints.At(token, i, out int width);
            if (cp == 0x03A3) output.Append(IsFinalSigma(token, i) ? 'ς' : 'σ');
            else if (cp is >= 0xAC00 and <= 0xD7A3) AppendHangul(cp, output);
            else if (Table.TryGetValue(cp, out var mapped)) output.Append(mapped);
            else output.Append(token, i, width);
            i += width;
        }
    }

    // Python's Final_Sigma: Σ preceded by a cased letter and not followed by one lowers to ς.
    static bool IsFinalSigma(string s, int i)
    {
        bool before = i > 0 && char.IsLetter(s[i - 1]);
        bool after = i + 1 < s.Length && char.IsLetter(s[i + 1]);
        return before && !after;
    }

    // NFD of a Hangul syllable: leading, vowel and (optional) trailing jamo; none is a combining mark, so all are kept.
    static void AppendHangul(int cp, StringBuilder output)
    {
        int s = cp - 0xAC00;
        output.Append((char)(0x1100 + s / 588)).Append((char)(0x1161 + s % 588 / 28));
        if (s % 28 != 0) output.Append((char)(0x11A7 + s % 28));
    }

    static Dictionary<int, string> Load()
    {
        using var stream = typeof(BertNormalization).Assembly.GetManifestResourceStream("RewardKit.Text.Resources.bert-uncased-normalization.txt")
            ?? throw new InvalidOperationException("RewardKit.Text: the embedded BERT normalisation table is missing (rebuild the assembly).");
        using var reader = new StreamReader(stream);
        var table = new Dictionary<int, string>(6000);
        for (string? line; (line = reader.ReadLine()) is not null;)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var parts = line.Split(' ');
            var sb = new StringBuilder();
            for (int k = 1; k < parts.Length; k++) sb.Append(char.ConvertFromUtf32(int.Parse(parts[k], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            table[int.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = sb.ToString();
        }
        return table;
    }
}

static class CodePoints
{
    /// <summary>The code point at <paramref name="i"/> (a lone surrogate reads as itself), and how many chars it takes.</summary>
    public static int At(string s, int i, out int width)
    {
        if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { width = 2; return char.ConvertToUtf32(s[i], s[i + 1]); }
        width = 1;
        return s[i];
    }
}
