using System.Text;
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
    public void Text_splits_as_the_gpt2_pattern_does(string text, string[] expected)
    {
        Assert.Equal(expected, Pieces(text));
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
