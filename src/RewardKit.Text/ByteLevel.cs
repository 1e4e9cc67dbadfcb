namespace RewardKit.Text;

/// <summary>
/// GPT-2's byte-to-unicode table: every byte 0..255 maps to one printable character so that a byte-level BPE
/// vocabulary can be stored as text (bytes 33..126, 161..172 and 174..255 map to themselves; the other 68 bytes map to
/// U+0100 upwards in byte order, so a space is "Ġ" and a newline "Ċ").
/// </summary>
public static class ByteLevel
{
    static readonly char[] ByteToCharTable = BuildByteToChar();
    static readonly Dictionary<char, byte> CharToByteTable = BuildCharToByte();

    /// <summary>The printable character that stands for <paramref name="b"/> in vocabulary files.</summary>
    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The byte a vocabulary character stands for, or false when <paramref name="c"/> is not one of the 256.</summary>
    public static bool TryCharToByte(char c, out byte b) => CharToByteTable.TryGetValue(c, out b);

    /// <summary>The vocabulary-file form of <paramref name="bytes"/> (one character per byte).</summary>
    public static string BytesToToken(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (chars, arr) =>
        {
            for (int i = 0; i < arr.Length; i++) chars[i] = ByteToCharTable[arr[i]];
        });
    }

    /// <summary>The bytes of a vocabulary-file token, or null when it holds a character outside the 256.</summary>
    public static byte[]? TokenToBytes(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            if (!CharToByteTable.TryGetValue(token[i], out bytes[i])) return null;
        }
        return bytes;
    }

    static char[] BuildByteToChar()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) map[ByteToCharTable[b]] = (byte)b;
        return map;
    }
}
