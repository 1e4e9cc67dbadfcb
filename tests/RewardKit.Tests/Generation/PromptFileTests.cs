using System.Text.Json;
using RewardKit.Data;
using RewardKit.Generation;

namespace RewardKit.Tests.Generation;

public sealed class PromptFileTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-prompts-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void A_prompts_file_gives_each_prompt_with_its_id_and_line()
    {
        var path = Write("p.jsonl", """{"prompt": "Hi", "id": 7}""", "", """{"id": "b", "prompt": "Bye", "extra": true}""");
        var (prompts, report) = PromptFile.Read(path);
        Assert.Equal([new PromptRecord("Hi", "7", 1), new PromptRecord("Bye", "b", 3)], prompts);
        Assert.Equal(2, report.Records.RecordsRead);
        Assert.Equal(1, report.Records.BlankLines);
    }

    [Fact]
    public void A_pairs_file_gives_each_prompt_once_in_order_and_counts_the_repeats()
    {
        var pair = (string p, string c) => JsonSerializer.Serialize(new { prompt = p, chosen = c, rejected = "no" });
        var path = Write("pairs.jsonl", pair("A", "x"), pair("B", "y"), pair("A", "z"));
        var (prompts, report) = PromptFile.Read(path);
        Assert.Equal(["A", "B"], prompts.Select(p => p.Prompt));
        Assert.Equal(1, report.DuplicatePrompts);
        Assert.Contains("1 repeated prompts merged", report.Summary());
    }

    [Fact]
    public void A_broken_line_stops_the_read_at_file_and_line_unless_invalid_records_are_skipped()
    {
        var path = Write("bad.jsonl", """{"prompt": "ok"}""", """{"prompt": 3}""", """{"prompt": "tru""", """{"text": "no prompt"}""", """{"prompt": "fine"}""");
        var e = Assert.Throws<InvalidDataException>(() => PromptFile.Read(path));
        Assert.StartsWith($"{path}:2:", e.Message);
        Assert.Contains("--skip-invalid", e.Message);
        var (prompts, report) = PromptFile.Read(path, new ReaderOptions { SkipInvalid = true });
        Assert.Equal(["ok", "fine"], prompts.Select(p => p.Prompt));
        Assert.Equal(3, report.Records.SkippedCount);
        Assert.Equal([2L, 3L, 4L], report.Records.Skipped.Select(s => s.Line));
        Assert.Contains(report.Records.Skipped, s => s.Message.Contains("no 'prompt' field"));
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = Path.Combine(_dir, "none.jsonl");
        Assert.Contains(path, Assert.Throws<FileNotFoundException>(() => PromptFile.Read(path)).Message);
    }
}
