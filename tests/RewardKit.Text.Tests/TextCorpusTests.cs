using RewardKit.Text;

namespace RewardKit.Text.Tests;

public sealed class TextCorpusTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-corpus-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Jsonl_fields_and_string_arrays_are_read_in_order()
    {
        var path = Write("c.jsonl", "{\"prompt\":\"p1\",\"responses\":[\"a\",\"b\"]}\n\n{\"prompt\":\"p2\",\"responses\":[]}\n");
        Assert.Equal(["p1", "a", "b", "p2"], TextCorpus.Read(path, ["prompt", "responses"]));
    }

    [Fact]
    public void A_missing_field_names_file_line_and_field()
    {
        var path = Write("c.jsonl", "{\"text\":\"ok\"}\n{\"txt\":\"no\"}\n");
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Read(path, ["text"]).ToList());
        Assert.Contains("c.jsonl:2", e.Message);
        Assert.Contains("\"text\"", e.Message);
        Assert.Contains("--field", e.Message);
    }

    [Fact]
    public void A_field_that_is_not_text_is_reported_not_dropped()
    {
        var path = Write("c.jsonl", "{\"chosen\":true}\n");
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Read(path, ["chosen"]).ToList());
        Assert.Contains("c.jsonl:1", e.Message);
        Assert.Contains("True", e.Message);
    }

    [Fact]
    public void Plain_text_files_give_one_text_per_line()
    {
        var path = Write("c.txt", "one\n\ntwo\n");
        Assert.Equal(["one", "two"], TextCorpus.Read(path, ["text"]));
    }

    [Fact]
    public void A_lone_escaped_surrogate_is_read_instead_of_failing()
    {
        var path = Write("c.jsonl", "{\"text\":\"a\\ud800b\\n\"}\n");
        var text = TextCorpus.Read(path, ["text"]).Single();
        Assert.Equal("a\ud800b\n", text);
    }
}
