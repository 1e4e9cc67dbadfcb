using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RewardKit.Testing;

/// <summary>
/// Seeded material for the fuzz tests: valid preference records and HTTP bodies, and mutations of them as an attacker
/// (or a broken exporter) would make them: lone surrogate escapes, repeated keys, invalid UTF-8, NaN/huge numbers,
/// deep nesting, truncation, stray bytes, deleted and duplicated spans. The same seed gives the same bytes.
/// </summary>
public sealed class HostileJson(int seed)
{
    readonly Random _rng = new(seed);

    /// <summary>The record formats <see cref="ValidRecord"/> makes.</summary>
    public static readonly string[] Formats = ["pairs", "rankings", "ratings"];

    /// <summary>The endpoints <see cref="ValidBody"/> makes bodies for.</summary>
    public static readonly string[] Endpoints = ["/v1/score", "/v1/rank", "/v1/best-of-n", "/v1/compare"];

    static readonly string[] Texts =
    [
        "hello", "Hi, \"you\"", "line\nbreak\r\n", "tab\tand \\ backslash", "café ñ", "中文文本", "emoji 😀 here", "", " ", "\u0001 control",
        "How do I bake bread?", "\n\nHuman: hi\n\nAssistant:", "a longer response with several words in it, and punctuation!",
    ];

    static readonly string[] Tokens =
    [
        "\\ud800", "\\udc00", "\\udbff\\udfff", "\\ud83d\\ude00", "\\ud83d", "\\u0000", "\\u12", "\\x41", "\"prompt\":\"x\",", "\"chosen\":\"c\",",
        "\"content\":\"dup\",", "\"role\":\"user\",", "\"items\":[],", "\"responses\":[\"r\"],", "NaN", "Infinity", "-Infinity", "1e999", "-1e999",
        "99999999999999999999999999", "0.0000000000000000000000001", "-0", "null", "true", "false", "[]", "{}", "\"\"", "\"", "\\", ",", ":",
        "{", "}", "[", "]", "\n", "\r", "\t", " ", "//", "/*", "'", new string('[', 80), new string('{', 80), "{\"a\":{\"a\":1,\"a\":2}}",
        "\"labels\":{\"helpfulness\":1,\"helpfulness\":2},", "\"weight\":-1,", "\"p_true\":2,", "\"margin\":\"NaN\",", "\"ranks\":[0,0],",
    ];

    /// <summary>Members that repeat a key of the records or messages when inserted right after an opening brace.</summary>
    static readonly string[] RepeatedMembers =
    [
        "\"prompt\":\"again\",", "\"chosen\":\"again\",", "\"rejected\":\"again\",", "\"content\":\"SECOND\",", "\"role\":\"user\",",
        "\"responses\":[\"a\",\"b\"],", "\"rating\":3,", "\"items\":[],", "\"k\":1,\"k\":2,", "\"prompt\":\"p\\ud800\",",
    ];

    static readonly byte[][] RawBytes =
    [
        [0xFF], [0xFE], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xEF, 0xBB, 0xBF], [0x00], [0x1B],
    ];

    string Text() => Texts[_rng.Next(Texts.Length)] + (_rng.Next(3) == 0 ? " " + _rng.Next(1000) : "");

    /// <summary>A valid JSONL record (one line, no newline) of <paramref name="format"/>.</summary>
    public string ValidRecord(string format)
    {
        var o = new JsonObject();
        var prompt = Text() + " " + _rng.Next(100_000); // distinct enough that chosen/rejected and prompts differ
        switch (format)
        {
            case "pairs":
                var chosen = "chosen " + Text();
                var rejected = "rejected " + Text();
                if (_rng.Next(4) == 0)
                {
                    o["prompt"] = new JsonArray(Message("system", "be kind"), Message("user", prompt));
                    o["chosen"] = new JsonArray(Message("assistant", chosen));
                    o["rejected"] = new JsonArray(Message("assistant", rejected));
                }
                else
                {
                    o["prompt"] = prompt;
                    o["chosen"] = chosen;
                    o["rejected"] = rejected;
                }
                if (_rng.Next(2) == 0) o["margin"] = Math.Round(_rng.NextDouble() * 3, 3);
                if (_rng.Next(3) == 0) o["labels"] = new JsonObject { ["helpfulness"] = 1, ["harmlessness"] = -1 };
                if (_rng.Next(3) == 0) o["p_true"] = Math.Round(_rng.NextDouble(), 4);
                break;
            case "rankings":
                o["prompt"] = prompt;
                var n = 2 + _rng.Next(3);
                o["responses"] = new JsonArray(Enumerable.Range(0, n).Select(i => (JsonNode)$"response {i} {Text()}").ToArray());
                o["ranks"] = new JsonArray(Enumerable.Range(0, n).Select(i => (JsonNode)i).ToArray());
                break;
            default:
                o["prompt"] = prompt;
                o["response"] = Text();
                o["rating"] = 1 + _rng.Next(5);
                break;
        }
        if (_rng.Next(2) == 0) o["id"] = $"id-{_rng.Next(1_000_000)}";
        if (_rng.Next(3) == 0) o["category"] = Text();
        if (_rng.Next(3) == 0) o["agreement"] = Math.Round(_rng.NextDouble(), 3);
        if (_rng.Next(4) == 0) o["meta"] = new JsonObject { ["k"] = new JsonArray(1, 2, 3), ["note"] = Text() };
        // Half escape every non-ASCII character (\u00e9, surrogate pairs for emoji), half write it raw.
        var encoder = _rng.Next(2) == 0 ? JavaScriptEncoder.Default : JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        return o.ToJsonString(new JsonSerializerOptions { Encoder = encoder });
    }

    static JsonObject Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    /// <summary>A valid request body for <paramref name="endpoint"/>.</summary>
    public string ValidBody(string endpoint)
    {
        JsonObject o = endpoint switch
        {
            "/v1/score" => new JsonObject
            {
                ["items"] = new JsonArray(Enumerable.Range(0, 1 + _rng.Next(3)).Select(_ => (JsonNode)new JsonObject { ["prompt"] = Text(), ["response"] = Text() }).ToArray()),
            },
            "/v1/compare" => new JsonObject { ["prompt"] = Text(), ["a"] = Text(), ["b"] = Text() },
            _ => new JsonObject { ["prompt"] = Text(), ["responses"] = new JsonArray(Enumerable.Range(0, 1 + _rng.Next(3)).Select(_ => (JsonNode)Text()).ToArray()) },
        };
        return o.ToJsonString(new JsonSerializerOptions { Encoder = _rng.Next(2) == 0 ? JavaScriptEncoder.Default : JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>One to three random mutations of <paramref name="valid"/> (UTF-8 bytes).</summary>
    public byte[] Mutate(string valid)
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(valid));
        var operations = 1 + _rng.Next(3);
        for (var i = 0; i < operations; i++)
        {
            var at = _rng.Next(bytes.Count + 1);
            switch (_rng.Next(8))
            {
                case 7: // a member right after an opening brace: valid JSON that repeats a key (or hides a lone surrogate)
                    var brace = bytes.IndexOf((byte)'{', Math.Min(at, Math.Max(0, bytes.Count - 1)));
                    if (brace < 0) brace = bytes.IndexOf((byte)'{');
                    if (brace >= 0) bytes.InsertRange(brace + 1, Encoding.UTF8.GetBytes(RepeatedMembers[_rng.Next(RepeatedMembers.Length)]));
                    break;
                case 0:
                case 1: // a hostile token at a random place
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[_rng.Next(Tokens.Length)]));
                    break;
                case 2: // a hostile token right after a quote (inside a string or a key)
                    var quote = bytes.IndexOf((byte)'"', Math.Min(at, Math.Max(0, bytes.Count - 1)));
                    bytes.InsertRange(quote < 0 ? at : quote + 1, Encoding.UTF8.GetBytes(Tokens[_rng.Next(8)]));
                    break;
                case 3: // raw bytes that are not UTF-8 (or a BOM, NUL, ESC)
                    bytes.InsertRange(at, RawBytes[_rng.Next(RawBytes.Length)]);
                    break;
                case 4: // delete a span
                    if (bytes.Count > 0)
                    {
                        var start = _rng.Next(bytes.Count);
                        bytes.RemoveRange(start, Math.Min(bytes.Count - start, 1 + _rng.Next(12)));
                    }
                    break;
                case 5: // duplicate a span (repeats keys, values, brackets)
                    if (bytes.Count > 0)
                    {
                        var start = _rng.Next(bytes.Count);
                        var span = bytes.GetRange(start, Math.Min(bytes.Count - start, 1 + _rng.Next(30)));
                        bytes.InsertRange(_rng.Next(bytes.Count + 1), span);
                    }
                    break;
                default: // overwrite one byte
                    if (bytes.Count > 0) bytes[_rng.Next(bytes.Count)] = (byte)_rng.Next(256);
                    break;
            }
        }
        return [.. bytes];
    }
}
