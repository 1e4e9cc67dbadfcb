using System.Text.Json;

namespace RewardKit.Text.Tests;

/// <summary>
/// Fixtures/gpt2_python_regex.json, written by tools/gpt2_regex_fixtures.py: what OpenAI's encoder.py (Python's
/// <c>regex</c> module) computes for seeded random strings, and every code point regex's <c>\s</c> matches.
/// </summary>
static class PythonRegexFixture
{
    static readonly Lazy<JsonElement> Lazy = new(() => JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2_python_regex.json"))).RootElement);

    public static JsonElement Root => Lazy.Value;

    /// <summary>Each case's text, its pre-tokenizer pieces and its GPT-2 ids.</summary>
    public static IEnumerable<(string Text, string[] Pieces, int[] Ids)> Cases() =>
        Root.GetProperty("cases").EnumerateArray().Select(c => (
            c.GetProperty("text").GetString()!,
            c.GetProperty("pieces").EnumerateArray().Select(p => p.GetString()!).ToArray(),
            c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray()));
}
