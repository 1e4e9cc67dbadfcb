using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using RewardKit.Text;

namespace RewardKit.Text.Tests;

public class Gpt2PreTokenizerTests
{
    static string[] Pieces(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return Gpt2PreTokenizer.Split(bytes).Select(p => Encoding.UTF8.GetString(bytes, p.Offset, p.Length)).ToArray();
    }

    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("a   b", new[] { "a", "  ", " b" })]
    [InlineData("a \tb", new[] { "a", " ", "\t", "b" })]
    [InlineData("end   ", new[] { "end", "   " })]
    [InlineData("don't we'll I'M", new[] { "don", "'t", " we", "'ll", " I", "'", "M" })]
    [InlineData("x 'sup", new[] { "x", " '", "sup" })]
    [InlineData("abc123 456!!?", new[] { "abc", "123", " 456", "!!?" })]
    [InlineData("\n\nHuman: hi", new[] { "\n", "\n", "Human", ":", " hi" })]
    [InlineData("日本語 テキスト", new[] { "日本語", " テキスト" })]
    [InlineData("e\u0301", new[] { "e", "\u0301" })]
    [InlineData("a\u00a0b", new[] { "a", "\u00a0", "b" })]
    [InlineData("a\u0085b", new[] { "a", "\u0085", "b" })]
    [InlineData("a \u0085b", new[] { "a", " ", "\u0085", "b" })]
    [InlineData("!\u0085?", new[] { "!", "\u0085", "?" })]
    [InlineData("a\ufeffb", new[] { "a", "\ufeff", "b" })]
    [InlineData("a \ufeff!", new[] { "a", " \ufeff!" })]
    [InlineData("a\u001cb", new[] { "a", "\u001c", "b" })]
    [InlineData("x\U0001D400\U0001D41Ay \U0001D7CE1", new[] { "x\U0001D400\U0001D41Ay", " \U0001D7CE1" })]
    public void Text_splits_as_the_gpt2_pattern_does(string text, string[] expected)
    {
        Assert.Equal(expected, Pieces(text));
    }

    [Fact]
    public void Every_code_point_is_whitespace_exactly_when_python_regex_says_so()
    {
        // The fixture lists every code point Python regex's \s matches: Unicode's White_Space property.
        var expected = PythonRegexFixture.Root.GetProperty("white_space").EnumerateArray().Select(e => e.GetInt32()).ToHashSet();
        Assert.Contains(0x85, expected);
        Assert.DoesNotContain(0xFEFF, expected);
        var wrong = new List<string>();
        for (int v = 0; v <= 0x10FFFF; v++)
        {
            if (v is >= 0xD800 and <= 0xDFFF) continue;
            bool space = Gpt2PreTokenizer.ClassifyRune(new Rune(v)) == Gpt2PreTokenizer.CharClass.Space;
            if (space != expected.Contains(v)) wrong.Add($"U+{v:X4} {(space ? "is" : "is not")} whitespace here");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void Fixture_strings_split_into_the_pieces_python_regex_finds()
    {
        var failures = new List<string>();
        foreach (var (text, pieces, _) in PythonRegexFixture.Cases())
        {
            var got = Pieces(text);
            if (!got.SequenceEqual(pieces))
                failures.Add($"{JsonSerializer.Serialize(text)}: expected [{string.Join("|", pieces)}] got [{string.Join("|", got)}]");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {PythonRegexFixture.Cases().Count()} differ:\n" + string.Join("\n", failures.Take(20)));
    }

    [Fact]
    public void Pieces_of_random_bytes_cover_the_input_without_gaps()
    {
        var property = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            int at = 0;
            foreach (var (offset, length) in Gpt2PreTokenizer.Split(bytes))
            {
                if (offset != at || length <= 0) return false;
                at += length;
            }
            return at == bytes.Length;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }
}
