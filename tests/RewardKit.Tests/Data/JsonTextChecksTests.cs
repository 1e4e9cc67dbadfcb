using System.Text;
using System.Text.Json;
using RewardKit.Data;

namespace RewardKit.Tests.DataFormats;

public sealed class JsonTextChecksTests
{
    [Theory]
    [InlineData("""{"a": "plain"}""", -1)]
    [InlineData("""{"a": "line\nbreak \"quoted\" \\ud800"}""", -1)] // an escaped backslash: "\ud800" here is text
    [InlineData("""{"a": "\ud83d\ude00 \uD83D\uDE00 \u00e9"}""", -1)] // pairs, either case
    [InlineData("""{"a": "\ud800"}""", 7)]
    [InlineData("""{"a": "\udc00x"}""", 7)]
    [InlineData("""{"a": "\ud83dx"}""", 7)]
    [InlineData("""{"a": "ok \ud83d\ude00", "\udbff": 1}""", 26)]
    [InlineData("""{"a": "\ud800\ud800\udc00"}""", 7)] // the first high surrogate has no low one after it
    [InlineData("""{"a": "\ud800\u0041"}""", 7)]
    [InlineData("""{"a": "\ud80"}""", -1)] // not an escape at all: the JSON parser reports it
    [InlineData("""{"a": "ends with \ud800""", 17)]
    public void A_lone_surrogate_escape_is_found_by_scanning_the_escapes_in_order(string json, int expected)
    {
        Assert.Equal(expected, JsonTextChecks.FindLoneSurrogate(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void Repeated_keys_are_found_at_every_depth_with_their_path()
    {
        using var doc = JsonDocument.Parse("""[{"role": "user", "content": "a"}, {"x": {"y": [1, {"z": 1, "z": 2}]}}]""");
        var e = Assert.Throws<RecordException>(() => JsonTextChecks.Check("prompt", doc.RootElement, checkText: false));
        Assert.Equal("prompt[1].x.y[1].z", e.Field);
        Assert.Contains("appears twice", e.Message);
    }

    [Fact]
    public void Lone_surrogates_in_nested_strings_and_keys_are_found_only_when_text_is_checked()
    {
        using var doc = JsonDocument.Parse("""{"k": ["ok", {"v": "\udc00"}]}""");
        JsonTextChecks.Check("meta", doc.RootElement, checkText: false); // the caller's line scan found none: strings are not read
        var e = Assert.Throws<RecordException>(() => JsonTextChecks.Check("meta", doc.RootElement, checkText: true));
        Assert.Equal("meta.k[1].v", e.Field);
        Assert.Contains("\\udc00", e.Message);

        using var key = JsonDocument.Parse("""{"k": [{"\udc00": 1}]}""");
        foreach (var checkText in new[] { false, true }) // a key is read to compare it, so it is refused either way
            Assert.Equal("meta.k[0]", Assert.Throws<RecordException>(() => JsonTextChecks.Check("meta", key.RootElement, checkText)).Field);
    }
}
