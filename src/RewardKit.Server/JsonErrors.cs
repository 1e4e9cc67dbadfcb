using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RewardKit.Server;

/// <summary>
/// Turns System.Text.Json's deserialization errors into a sentence naming the field as the client wrote it
/// (<c>items[0].prompt</c>) and what it should be, instead of the .NET type that was being built ("could not be converted
/// to ScoreItemDto"): wrong types, repeated keys, unknown fields, lone surrogate escapes, and syntax errors.
/// </summary>
static partial class JsonErrors
{
    /// <summary>What is wrong with <paramref name="body"/>, deserialized as <typeparamref name="T"/>, according to <paramref name="e"/>.</summary>
    public static string Describe<T>(JsonException e, byte[] body)
    {
        var segments = Segments(e.Path);
        var field = segments.Count == 0 ? "the body" : Field(segments);
        if (e.InnerException is InvalidOperationException inner && inner.Message.Contains("UTF-16", StringComparison.Ordinal))
            return $"{field} holds a lone surrogate escape (half of a UTF-16 pair such as \\ud800, not a character); send valid Unicode text.";
        if (e.Message.StartsWith("Duplicate property", StringComparison.Ordinal))
            return $"{field} appears twice; send each field once.";
        if (UnmappedName().Match(e.Message) is { Success: true } unmapped)
        {
            // The path ends at the unknown field itself; its owner is one step up.
            var parent = segments.Count > 0 && segments[^1] is string ? segments[..^1] : segments;
            var where = parent.Count == 0 ? "the body" : Field(parent);
            var known = FieldNames(TypeAt(typeof(T), parent)).Select(n => $"'{n}'");
            return $"'{unmapped.Groups[1].Value}' is not a field of {where}; use {string.Join(", ", known)}.";
        }
        if (e.Message.Contains("could not be converted", StringComparison.Ordinal) && e.InnerException is null or InvalidOperationException)
        {
            var expected = Expected(TypeAt(typeof(T), segments));
            return $"{field} is {ActualAt(body, segments)}; expected {expected}.";
        }
        var message = e.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        var at = segments.Count == 0 ? "$" : field;
        return $"invalid JSON at {at} (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {message.TrimEnd('.')}.";
    }

    [GeneratedRegex("The JSON property '(.*?)' could not be mapped")]
    private static partial Regex UnmappedName();

    /// <summary><c>$.items[0].prompt</c> or <c>$['a b'][0]</c> → ["items", 0, "prompt"].</summary>
    static List<object> Segments(string? path)
    {
        var segments = new List<object>();
        if (string.IsNullOrEmpty(path)) return segments;
        foreach (Match m in PathSegment().Matches(path))
        {
            if (m.Groups["index"].Success) segments.Add(int.Parse(m.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture));
            else segments.Add(m.Groups["name"].Success ? m.Groups["name"].Value : m.Groups["quoted"].Value);
        }
        return segments;
    }

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\[(?<index>\d+)\]|\['(?<quoted>(?:[^']|'')*)'\]")]
    private static partial Regex PathSegment();

    static string Field(List<object> segments)
    {
        var text = new System.Text.StringBuilder();
        foreach (var s in segments)
            if (s is int i) text.Append('[').Append(i).Append(']');
            else text.Append(text.Length == 0 ? "" : ".").Append(s);
        return text.ToString();
    }

    /// <summary>The .NET type the wire path leads to in <paramref name="root"/>, or null when it leads nowhere known.</summary>
    static Type? TypeAt(Type root, List<object> segments)
    {
        Type? type = root;
        foreach (var s in segments)
        {
            if (type is null) return null;
            type = Nullable.GetUnderlyingType(type) ?? type;
            type = s is int
                ? (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0] : null)
                : Properties(type).FirstOrDefault(p => WireName(p) == (string)s)?.PropertyType;
        }
        return type;
    }

    static IEnumerable<PropertyInfo> Properties(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name != "EqualityContract");

    static string WireName(PropertyInfo p) => ScoringEndpoints.Json.PropertyNamingPolicy!.ConvertName(p.Name);

    static IEnumerable<string> FieldNames(Type? type) => type is null ? [] : Properties(type).Select(WireName);

    static string Expected(Type? type)
    {
        if (type is null) return "another type (see /openapi/v1.json)";
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return "a string";
        if (type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(float)) return "a number";
        if (type == typeof(bool)) return "true or false";
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            return Expected(type.GetGenericArguments()[0]) switch
            {
                "a string" => "an array of strings",
                var element => $"an array, each item {element}",
            };
        return $"an object with {string.Join(", ", FieldNames(type).Select(n => $"\"{n}\""))}";
    }

    /// <summary>"the number 1", "a JSON boolean", ... for the value at the path (the body is JSON up to there).</summary>
    static string ActualAt(byte[] body, List<object> segments)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var e = doc.RootElement;
            foreach (var s in segments)
            {
                if (s is int i)
                {
                    if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() <= i) return "of the wrong type";
                    e = e[i];
                }
                else if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty((string)s, out e)) return "of the wrong type";
            }
            return e.ValueKind switch
            {
                JsonValueKind.Number => $"the number {(e.GetRawText() is { Length: > 40 } n ? n[..37] + "..." : e.GetRawText())}",
                JsonValueKind.True or JsonValueKind.False => "a JSON boolean",
                JsonValueKind.String => "a string",
                JsonValueKind.Array => "an array",
                JsonValueKind.Object => "an object",
                JsonValueKind.Null => "null",
                _ => "of the wrong type",
            };
        }
        catch (JsonException)
        {
            // The body does not parse as a whole (e.g. nested too deep); the first byte still tells what the root is.
            var first = body.AsSpan().TrimStart(" \t\r\n"u8);
            return segments.Count > 0 || first.IsEmpty ? "of the wrong type" : first[0] switch
            {
                (byte)'[' => "an array",
                (byte)'"' => "a string",
                (byte)'t' or (byte)'f' => "a JSON boolean",
                (byte)'n' => "null",
                _ => "a number",
            };
        }
    }
}
