using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace RewardKit.Text;

/// <summary>
/// GPT-2's pre-tokenisation, written out by hand over UTF-8 bytes instead of through a regular expression:
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>, with <c>\s</c> as OpenAI's
/// encoder.py (Python's <c>regex</c>) and Hugging Face tokenizers (Oniguruma) define it: Unicode's White_Space property.
/// That differs from JavaScript's <c>\s</c> on two characters: U+0085 (NEXT LINE) is whitespace, U+FEFF (BOM) is not.
/// Bytes that are not valid UTF-8 count as "other" characters, so any byte string splits into pieces that
/// concatenate back to it.
/// </summary>
public static class Gpt2PreTokenizer
{
    /// <summary>The character classes the pattern distinguishes.</summary>
    internal enum CharClass : byte { Letter, Number, Space, Other }

    // ASCII: letters, digits, whitespace (\t \n \v \f \r and space), everything else "other" (U+001C..U+001F too:
    // Python's str.isspace counts them, but regex's \s, White_Space, does not).
    static readonly CharClass[] AsciiClass = BuildAscii();

    static CharClass[] BuildAscii()
    {
        var t = new CharClass[128];
        for (int c = 0; c < 128; c++)
        {
            t[c] = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' ? CharClass.Letter
                 : c is >= '0' and <= '9' ? CharClass.Number
                 : c is '\t' or '\n' or '\v' or '\f' or '\r' or ' ' ? CharClass.Space
                 : CharClass.Other;
        }
        return t;
    }

    /// <summary>Classifies the character at <paramref name="i"/>; <paramref name="length"/> is its byte length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static CharClass Classify(ReadOnlySpan<byte> s, int i, out int length)
    {
        byte b = s[i];
        if (b < 0x80) { length = 1; return AsciiClass[b]; }
        return ClassifyNonAscii(s.Slice(i), out length);
    }

    static CharClass ClassifyNonAscii(ReadOnlySpan<byte> s, out int length)
    {
        if (Rune.DecodeFromUtf8(s, out var rune, out length) != OperationStatus.Done)
            return CharClass.Other; // invalid UTF-8: kept as bytes, classed like U+FFFD (a symbol)
        return ClassifyRune(rune);
    }

    /// <summary>The class of one Unicode scalar value under the GPT-2 pattern.</summary>
    internal static CharClass ClassifyRune(Rune rune)
    {
        int v = rune.Value;
        if (IsWhiteSpace(v)) return CharClass.Space;
        switch (Rune.GetUnicodeCategory(rune))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                return CharClass.Letter;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                return CharClass.Number;
            default:
                return CharClass.Other;
        }
    }

    /// <summary>
    /// Unicode's White_Space property (PropList.txt, unchanged since Unicode 6.3): U+0009..U+000D, U+0085 and the
    /// separators Zs, Zl, Zp. It is Python regex's and Oniguruma's <c>\s</c>; U+FEFF, U+180E and U+200B are not in it.
    /// </summary>
    static bool IsWhiteSpace(int v) =>
        v is '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
          or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    /// <summary>
    /// The byte length of the piece that starts at <paramref name="start"/> (which must be inside
    /// <paramref name="s"/>). Pieces are consecutive and cover the input.
    /// </summary>
    public static int NextPieceLength(ReadOnlySpan<byte> s, int start)
    {
        int n = s.Length;
        byte b = s[start];

        // Contractions: 's 't 're 've 'm 'll 'd (lowercase only, as in the pattern).
        if (b == (byte)'\'' && start + 1 < n)
        {
            byte c = s[start + 1];
            if (c is (byte)'s' or (byte)'t' or (byte)'m' or (byte)'d') return 2;
            if (start + 2 < n)
            {
                byte d = s[start + 2];
                if ((c == (byte)'r' && d == (byte)'e') || (c == (byte)'v' && d == (byte)'e') || (c == (byte)'l' && d == (byte)'l'))
                    return 3;
            }
        }

        var cls = Classify(s, start, out int len);
        int i = start;
        if (b == (byte)' ' && start + 1 < n)
        {
            // " ?X+" where X is letter, number or other: the space joins the run that follows it.
            var next = Classify(s, start + 1, out int nextLen);
            if (next != CharClass.Space)
            {
                cls = next;
                i = start + 1 + nextLen;
                return RunEnd(s, i, cls) - start;
            }
        }
        if (cls != CharClass.Space)
            return RunEnd(s, start + len, cls) - start;

        // Whitespace: "\s+(?!\S)" takes the run but leaves its last character to the next piece when a
        // non-space follows; "\s+" takes a single leftover character.
        int end = start + len;
        int lastStart = start;
        while (end < n)
        {
            var c = Classify(s, end, out int l);
            if (c != CharClass.Space) break;
            lastStart = end;
            end += l;
        }
        if (end == n) return n - start;
        return lastStart > start ? lastStart - start : end - start;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int RunEnd(ReadOnlySpan<byte> s, int i, CharClass cls)
    {
        int n = s.Length;
        while (i < n)
        {
            byte b = s[i];
            if (b < 0x80)
            {
                if (AsciiClass[b] != cls) break;
                i++;
            }
            else
            {
                if (ClassifyNonAscii(s.Slice(i), out int l) != cls) break;
                i += l;
            }
        }
        return i;
    }

    /// <summary>Splits <paramref name="utf8"/> into GPT-2 pre-tokens, returned as (offset, length) pairs.</summary>
    public static List<(int Offset, int Length)> Split(ReadOnlySpan<byte> utf8)
    {
        var pieces = new List<(int, int)>();
        for (int i = 0; i < utf8.Length;)
        {
            int len = NextPieceLength(utf8, i);
            pieces.Add((i, len));
            i += len;
        }
        return pieces;
    }
}
