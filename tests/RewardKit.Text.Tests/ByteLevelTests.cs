using RewardKit.Text;

namespace RewardKit.Text.Tests;

public class ByteLevelTests
{
    [Fact]
    public void Every_byte_maps_to_a_distinct_character_and_back()
    {
        var seen = new HashSet<char>();
        for (int b = 0; b < 256; b++)
        {
            char c = ByteLevel.ByteToChar((byte)b);
            Assert.True(seen.Add(c), $"byte {b} shares character {c}");
            Assert.True(ByteLevel.TryCharToByte(c, out byte back));
            Assert.Equal(b, back);
        }
    }

    [Fact]
    public void Space_and_newline_are_the_gpt2_characters()
    {
        Assert.Equal('Ġ', ByteLevel.ByteToChar((byte)' '));
        Assert.Equal('Ċ', ByteLevel.ByteToChar((byte)'\n'));
        Assert.Equal('A', ByteLevel.ByteToChar((byte)'A'));
        Assert.Equal("ĠhelloĊ", ByteLevel.BytesToToken(" hello\n"u8));
    }

    [Fact]
    public void A_token_with_a_character_outside_the_alphabet_has_no_bytes()
    {
        Assert.Null(ByteLevel.TokenToBytes("日"));
        Assert.Equal(" t"u8.ToArray(), ByteLevel.TokenToBytes("Ġt"));
    }
}
