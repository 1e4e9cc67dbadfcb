using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace RewardKit.Text.Tests;

/// <summary>
/// Microsoft.ML.Tokenizers 3.0.0's byte-level <see cref="BpeTokenizer"/> over the same GPT-2 files, used as an
/// independent oracle. Its pre-tokenizer is the GPT-2 pattern as a .NET <see cref="Regex"/>, whose <c>\s</c> is
/// <c>[\f\n\r\t\v\x85\p{Z}]</c>: Unicode's White_Space, as in Python's <c>regex</c>. It runs over UTF-16, though,
/// so a letter or digit outside the Basic Multilingual Plane (U+1D400 𝐀, U+20000 𠀀, U+1D7CE 𝟎) is two surrogates
/// that match neither <c>\p{L}</c> nor <c>\p{N}</c>: there the oracle departs from OpenAI's encoder.py and from
/// RewardKit. Random strings for the oracle therefore keep to BMP letters and digits; supplementary ones are
/// checked against the Python fixture (<see cref="PythonRegexFixture"/>) instead.
/// </summary>
public class MlTokenizersOracleTests
{
    const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    static readonly Lazy<BpeTokenizer> LazyOracle = new(() =>
    {
        var dir = SharedData.PathOf("tokenizers/gpt2");
        var options = new BpeOptions(Path.Combine(dir, "encoder.json"), Path.Combine(dir, "vocab.bpe"))
        {
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(new Regex(Gpt2Pattern, RegexOptions.CultureInvariant), null),
        };
        return BpeTokenizer.Create(options);
    });

    static BpeTokenizer Oracle => LazyOracle.Value;

    [SharedDataFact]
    public void The_oracle_encodes_the_97_reference_records_to_the_reference_ids()
    {
        int count = 0;
        var failures = new List<string>();
        foreach (var line in File.ReadLines(SharedData.PathOf("tokenizers/gpt2/expected_ids.jsonl")))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var text = doc.RootElement.GetProperty("text").GetString()!;
            var expected = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            if (!Oracle.EncodeToIds(text).SequenceEqual(expected)) failures.Add(JsonSerializer.Serialize(text));
            count++;
        }
        Assert.Equal(97, count);
        Assert.True(failures.Count == 0, "the oracle differs on " + string.Join(", ", failures));
    }

    [SharedDataFact]
    public void Ten_thousand_random_strings_encode_as_the_oracle_encodes_them()
    {
        var rng = new Random(17);
        var tok = Gpt2.Tokenizer;
        var failures = new List<string>();
        for (int i = 0; i < 10_000; i++)
        {
            var text = RandomText(rng);
            var expected = Oracle.EncodeToIds(text);
            var ids = tok.Encode(text);
            if (!ids.SequenceEqual(expected))
                failures.Add($"{JsonSerializer.Serialize(text)}: oracle [{string.Join(",", expected)}] got [{string.Join(",", ids)}]");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of 10000 differ:\n" + string.Join("\n", failures.Take(20)));
    }

    [SharedDataFact]
    public void Every_whitespace_and_separator_character_between_words_encodes_as_the_oracle_encodes_it()
    {
        var tok = Gpt2.Tokenizer;
        foreach (var c in SpaceLike)
            foreach (var text in new[] { $"a{c}b", $"a {c}b", $"a{c} b", $"a{c}{c}b", $"{c}", $"x{c}", $"1{c}!" })
                Assert.True(Oracle.EncodeToIds(text).SequenceEqual(tok.Encode(text)), $"U+{char.ConvertToUtf32(c, 0):X4} in {JsonSerializer.Serialize(text)}");
    }

    [SharedDataFact]
    public void The_oracle_departs_from_python_regex_only_on_supplementary_plane_letters_and_digits()
    {
        var departures = PythonRegexFixture.Cases().Where(c => !Oracle.EncodeToIds(c.Text).SequenceEqual(c.Ids)).ToList();
        Assert.NotEmpty(departures); // the fixture holds such strings, so the class summary stays true
        Assert.All(departures, c => Assert.True(HasSupplementaryLetterOrDigit(c.Text), JsonSerializer.Serialize(c.Text)));
    }

    static bool HasSupplementaryLetterOrDigit(string text) =>
        text.EnumerateRunes().Any(r => r.Value > 0xFFFF && (Rune.IsLetter(r) || Rune.IsNumber(r)));

    /// <summary>
    /// Every Unicode whitespace and separator character: White_Space (the controls \t..\r and U+0085 and the
    /// categories Zs, Zl, Zp, enumerated from .NET's tables) plus the look-alikes that are not White_Space: the
    /// information separators U+001C..U+001F, the format characters U+FEFF, U+180E, U+200B..U+200D, U+2060, U+00AD.
    /// </summary>
    static readonly string[] SpaceLike = Enumerable.Range(0, 0x10000)
        .Where(v => v is < 0xD800 or > 0xDFFF)
        .Where(v => CharUnicodeInfo.GetUnicodeCategory(v) is UnicodeCategory.SpaceSeparator
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
        .Concat([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x1C, 0x1D, 0x1E, 0x1F, 0xFEFF, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0xAD])
        .Select(char.ConvertFromUtf32)
        .ToArray();

    static readonly (int Weight, string[] Items)[] Groups =
    [
        (6, SpaceLike),
        (3, [" ", "  ", "\n", "\n\n", "\r\n", "\t", " \n "]),
        (5, ["a", "b", "c", "X", "Y", "Z", "hello", "World", "Führer", "naïve", "straße", "Ελλάδα", "привет", "e\u0301", "नमस्ते", "مرحبا"]),
        (2, ["日本語", "テキスト", "中文", "한국어", "ｆｕｌｌ"]),
        (3, ["0", "1", "7", "42", "2024", "٣", "१२", "１２", "²", "½", "Ⅻ"]),
        (3, [".", ",", "!", "?", ";", ":", "-", "(", ")", "\"", "'", "/", "\\", "@", "#", "$", "%", "&", "*", "_", "<", ">",
             "“", "”", "—", "…", "¿", "「", "」", "’"]),
        (3, ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "’s", "don't", "we'll", "'", "''"]),
        (2, ["😀", "🦙", "👍🏽", "😶\u200d🌫\ufe0f", "🇺🇸", "✅", "\ufe0f", "❤", "🚀"]),
        (1, ["<|endoftext|>", "Human:", "Assistant:", "\n\nHuman: ", "\n\nAssistant:"]),
    ];

    /// <summary>1 to 24 items drawn from <see cref="Groups"/> by weight (BMP letters and digits only: see the class summary).</summary>
    static string RandomText(Random rng)
    {
        int total = Groups.Sum(g => g.Weight);
        var sb = new StringBuilder();
        for (int n = rng.Next(1, 25); n > 0; n--)
        {
            int pick = rng.Next(total), g = 0;
            while (pick >= Groups[g].Weight) pick -= Groups[g++].Weight;
            sb.Append(Groups[g].Items[rng.Next(Groups[g].Items.Length)]);
        }
        return sb.ToString();
    }
}
