using System.Text.Json;
using RewardKit.Annotation;

namespace RewardKit.Testing;

/// <summary>Tasks, task files and throw-away databases for the annotation tests (linked into the server and CLI tests too).</summary>
public static class AnnotationTestData
{
    public static AnnotationTask Pair(string id, string a = "a helpful answer", string b = "a harmful answer", PairChoice? gold = null) => new()
    {
        Id = id, Mode = AnnotationMode.Pairwise, Prompt = $"prompt of {id}", Responses = [a, b],
        Gold = gold is { } g ? new AnnotationAnswer { Choice = g, Strength = g == PairChoice.Tie ? 0 : 1 } : null,
    };

    public static AnnotationTask Ranking(string id, int n = 3, int[]? gold = null) => new()
    {
        Id = id, Mode = AnnotationMode.Ranking, Prompt = $"prompt of {id}", Responses = Enumerable.Range(1, n).Select(i => $"response {i} of {id}").ToArray(),
        Gold = gold is null ? null : new AnnotationAnswer { Ranks = gold },
    };

    public static AnnotationTask Rating(string id, int n = 2, int[]? gold = null) => new()
    {
        Id = id, Mode = AnnotationMode.Rating, Prompt = $"prompt of {id}", Responses = Enumerable.Range(1, n).Select(i => $"response {i} of {id}").ToArray(),
        Gold = gold is null ? null : new AnnotationAnswer { Ratings = gold },
    };

    public static AnnotationAnswer Choose(PairChoice choice, int strength = 2) => new() { Choice = choice, Strength = choice == PairChoice.Tie ? 0 : strength };

    /// <summary>A fresh folder under the temp directory.</summary>
    public static string TempFolder(string name) => Directory.CreateTempSubdirectory($"rk-{name}-").FullName;

    /// <summary>Writes <paramref name="tasks"/> as tasks.jsonl in <paramref name="folder"/> and returns its path.</summary>
    public static string TasksFile(string folder, IEnumerable<AnnotationTask> tasks)
    {
        var path = Path.Combine(folder, "tasks.jsonl");
        File.WriteAllLines(path, tasks.Select(t =>
        {
            var line = new Dictionary<string, object?> { ["id"] = t.Id, ["mode"] = AnnotationModes.Name(t.Mode), ["prompt"] = t.Prompt, ["responses"] = t.Responses };
            if (t.Category is { } c) line["category"] = c;
            if (t.Gold is { } g)
                line["gold"] = t.Mode switch
                {
                    AnnotationMode.Pairwise => g.Choice == PairChoice.Tie ? "tie" : g.Choice.ToString(),
                    AnnotationMode.Ranking => g.Ranks,
                    _ => (object?)g.Ratings,
                };
            return JsonSerializer.Serialize(line);
        }));
        return path;
    }

    /// <summary>A new database in a new folder with <paramref name="tasks"/> and settings k and gold-every.</summary>
    public static AnnotationStore Store(IEnumerable<AnnotationTask> tasks, int k = 2, int goldEvery = 0, TimeProvider? time = null)
    {
        var store = AnnotationStore.Open(Path.Combine(TempFolder("annotation"), "annotations.db"), time);
        store.ImportTasks(tasks.ToList());
        store.SaveSettings(new AnnotationSettings { AnnotatorsPerTask = k, GoldEvery = goldEvery });
        return store;
    }
}
