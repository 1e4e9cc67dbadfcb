using RewardKit.Annotation;

namespace RewardKit.Tests.Annotation;

public sealed class TaskFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("rk-taskfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    string Write(params string[] lines)
    {
        var path = Path.Combine(_dir, "tasks.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Every_mode_and_gold_form_is_read_and_blank_lines_are_skipped()
    {
        var path = Write(
            """{"id": "p1", "prompt": "q", "responses": ["a", "b"], "gold": "B", "category": "chat"}""",
            "",
            """{"id": "r1", "mode": "ranking", "prompt": "q", "responses": ["a", "b", "c"], "gold": [2, 1, 3]}""",
            """{"id": "s1", "mode": "Rating", "prompt": "q", "responses": ["a", "b"], "gold": [5, 1]}""",
            """{"id": "p2", "prompt": "q", "responses": ["a", "b"]}""");
        var tasks = TaskFile.Read(path, AnnotationMode.Pairwise);
        Assert.Equal(["p1", "r1", "s1", "p2"], tasks.Select(t => t.Id));
        Assert.Equal(PairChoice.B, tasks[0].Gold!.Choice);
        Assert.Equal("chat", tasks[0].Category);
        Assert.Equal([2, 1, 3], tasks[1].Gold!.Ranks);
        Assert.Equal(AnnotationMode.Rating, tasks[2].Mode);
        Assert.Equal([5, 1], tasks[2].Gold!.Ratings);
        Assert.False(tasks[3].IsGold);
        Assert.Equal(AnnotationMode.Ranking, TaskFile.Read(Write("""{"id": "x", "prompt": "q", "responses": ["a", "b", "c"]}"""), AnnotationMode.Ranking)[0].Mode);
    }

    [Theory]
    [InlineData("""{"id": "p", "prompt": "q", "responses": ["a", "b", "c"]}""", "tasks.jsonl:2: a pairwise task has exactly 2 responses")]
    [InlineData("""{"id": "p", "prompt": "q", "responses": ["a"], "mode": "ranking"}""", "give 2 to 10")]
    [InlineData("""{"id": "p", "prompt": "q", "responses": ["a", "b"], "gold": "C"}""", "field 'gold' is 'C'")]
    [InlineData("""{"id": "p", "prompt": "q", "responses": ["a", "b"], "mode": "ranking", "gold": [1, 1]}""", "same rank")]
    [InlineData("""{"id": "p", "prompt": "q", "responses": ["a", "b"], "mode": "rating", "gold": [6, 1]}""", "rating_0 is 6")]
    [InlineData("""{"id": "p", "prompt": "q", "responses": ["a", "b"], "mode": "voting"}""", "mode is 'voting'")]
    [InlineData("""{"id": "p", "prompt": "q", "responses": ["a", "b"], "chosen": "a"}""", "unknown field 'chosen'")]
    [InlineData("""{"id": "has space", "prompt": "q", "responses": ["a", "b"]}""", "field 'id' is 'has space'")]
    [InlineData("""{"prompt": "q", "responses": ["a", "b"]}""", "field 'id' is missing")]
    [InlineData("""{"id": "p", "prompt": 3, "responses": ["a", "b"]}""", "field 'prompt' must be a string")]
    [InlineData("""{"id": "p", "prompt": "q", "responses": ["a", 2]}""", "responses[1] must be a string")]
    [InlineData("""{"id": "p1", "prompt": "q", "responses": ["a", "b"]}""", "id 'p1' was already used on line 1")]
    [InlineData("""{"id": "p", """, "invalid JSON")]
    public void A_bad_task_stops_the_read_naming_file_line_and_field(string line, string expected)
    {
        var path = Write("""{"id": "p1", "prompt": "q", "responses": ["a", "b"]}""", line);
        var e = Assert.Throws<InvalidDataException>(() => TaskFile.Read(path, AnnotationMode.Pairwise));
        Assert.Contains("tasks.jsonl:2:", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_missing_or_empty_file_says_what_to_do()
    {
        Assert.Contains("file not found", Assert.Throws<FileNotFoundException>(() => TaskFile.Read(Path.Combine(_dir, "none.jsonl"), AnnotationMode.Pairwise)).Message);
        Assert.Contains("no tasks", Assert.Throws<InvalidDataException>(() => TaskFile.Read(Write("", "  "), AnnotationMode.Pairwise)).Message);
    }
}
