using System.Runtime.InteropServices;
using System.Text.Json;

namespace RewardKit.Data;

/// <summary>
/// Checks System.Text.Json leaves to the caller: a lone surrogate escape (<c>"\ud800"</c>: valid JSON syntax, but half of
/// a UTF-16 pair and no character; reading it as a string throws) and a key repeated inside one object at any depth
/// (the parsers keep the last one silently). Each failure is a <see cref="RecordException"/> naming the field path,
/// e.g. <c>prompt[0].content</c>.
/// </summary>
internal static class JsonTextChecks
{
    /// <summary>
    /// The index of the first lone surrogate escape in raw JSON text, or -1. Backslashes occur only in string escapes,
    /// so the escapes can be scanned in order without tokenising; a high surrogate must be followed by a low one.
    /// </summary>
    public static int FindLoneSurrogate(ReadOnlySpan<byte> json)
    {
        var i = 0;
        while (i < json.Length)
        {
            var k = json[i..].IndexOf((byte)'\\');
            if (k < 0) return -1;
            i += k;
            if (i + 1 >= json.Length) return -1;
            if (json[i + 1] != (byte)'u' || !TryHex4(json, i + 2, out var unit))
            {
                i += 2; // \n, \", \\ ... (an invalid escape is the JSON parser's to report)
                continue;
            }
            if (unit is >= 0xDC00 and <= 0xDFFF) return i;
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (i + 11 < json.Length && json[i + 6] == (byte)'\\' && json[i + 7] == (byte)'u' && TryHex4(json, i + 8, out var low) && low is >= 0xDC00 and <= 0xDFFF)
                {
                    i += 12;
                    continue;
                }
                return i;
            }
            i += 6;
        }
        return -1;
    }

    /// <summary>The escape at <paramref name="index"/> as written, e.g. <c>\ud800</c>.</summary>
    public static string EscapeAt(ReadOnlySpan<byte> json, int index) =>
        System.Text.Encoding.ASCII.GetString(json.Slice(index, Math.Min(6, json.Length - index)));

    static bool TryHex4(ReadOnlySpan<byte> json, int start, out int value)
    {
        value = 0;
        if (start + 4 > json.Length) return false;
        for (var j = start; j < start + 4; j++)
        {
            var c = json[j];
            int digit = c is >= (byte)'0' and <= (byte)'9' ? c - '0'
                : c is >= (byte)'a' and <= (byte)'f' ? c - 'a' + 10
                : c is >= (byte)'A' and <= (byte)'F' ? c - 'A' + 10 : -1;
            if (digit < 0) return false;
            value = value * 16 + digit;
        }
        return true;
    }

    /// <summary>The message for a lone surrogate in <paramref name="field"/>.</summary>
    public static string LoneSurrogateMessage(string field, string escape) =>
        $"field '{field}' holds the lone surrogate escape {escape} (half of a UTF-16 pair, not a character); re-export the data as valid Unicode or remove it";

    /// <summary>
    /// Walks <paramref name="value"/> (the value of <paramref name="path"/>): every object's keys must be distinct; with
    /// <paramref name="checkText"/> every string and key must also be free of lone surrogates (pass false when the whole
    /// line was already found free of them: the walk then only visits objects and arrays).
    /// </summary>
    public static void Check(string path, JsonElement value, bool checkText)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                if (checkText) CheckText(path, JsonMarshal.GetRawUtf8Value(value));
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind is JsonValueKind.Object or JsonValueKind.Array || checkText && item.ValueKind == JsonValueKind.String)
                        Check($"{path}[{i}]", item, checkText);
                    i++;
                }
                break;
            case JsonValueKind.Object:
                CheckObject(path, value, checkText);
                break;
        }
    }

    static void CheckObject(string path, JsonElement value, bool checkText)
    {
        HashSet<string>? seen = null;
        foreach (var p in value.EnumerateObject())
        {
            if (checkText)
            {
                var raw = JsonMarshal.GetRawUtf8PropertyName(p);
                var at = FindLoneSurrogate(raw);
                if (at >= 0) throw new RecordException(path, $"a key inside field '{path}' holds the lone surrogate escape {EscapeAt(raw, at)} (half of a UTF-16 pair, not a character); re-export the data as valid Unicode");
            }
            string name;
            try { name = p.Name; }
            catch (InvalidOperationException) // a lone surrogate in a key when the caller did not ask for text checks
            {
                throw new RecordException(path, $"a key inside field '{path}' holds a lone surrogate escape (half of a UTF-16 pair, not a character); re-export the data as valid Unicode");
            }
            var child = $"{path}.{name}";
            seen ??= new HashSet<string>(StringComparer.Ordinal);
            if (!seen.Add(name)) throw new RecordException(child, $"field '{child}' appears twice; keep one");
            if (p.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array || checkText && p.Value.ValueKind == JsonValueKind.String)
                Check(child, p.Value, checkText);
        }
    }

    static void CheckText(string path, ReadOnlySpan<byte> raw)
    {
        var at = FindLoneSurrogate(raw);
        if (at >= 0) throw new RecordException(path, LoneSurrogateMessage(path, EscapeAt(raw, at)));
    }
}
