using RewardKit.Data;

namespace RewardKit.Tests.DataFormats;

public sealed class PromptSplitTests : IDisposable
{
    readonly DataFiles _files = new();
    public void Dispose() => _files.Dispose();

    string ManyPrompts(int prompts, int maxPerPrompt)
    {
        var lines = new List<string>();
        var rng = new DeterministicRandom(3);
        for (var p = 0; p < prompts; p++)
            for (var k = 0; k <= rng.Next(maxPerPrompt); k++)
                lines.Add($"{{\"id\": \"{p}-{k}\", \"prompt\": \"prompt {p}\", \"chosen\": \"good {k}\", \"rejected\": \"bad {k}\"}}");
        return _files.Write(string.Join("\n", lines) + "\n");
    }

    [Fact]
    public void No_prompt_is_in_two_splits_and_no_record_is_lost()
    {
        var input = ManyPrompts(400, 5);
        var (parts, report) = PromptSplit.Split(input, [0.8, 0.1, 0.1], _files.PathFor("out"), seed: 5);
        Assert.Equal(["train", "validation", "test"], parts.Select(p => p.Name));
        var read = parts.Select(p => DataFiles.ReadAll(p.Path)).ToList();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(parts[i].Records, read[i].Count);
            Assert.Equal(parts[i].Prompts, read[i].Select(r => r.Prompt).Distinct().Count());
            for (var j = i + 1; j < 3; j++)
                Assert.Empty(read[i].Select(r => r.Prompt).Intersect(read[j].Select(r => r.Prompt)));
        }
        Assert.Equal(report.RecordsRead, read.Sum(r => r.Count));
        Assert.Equal(DataFiles.ReadAll(input).Select(r => r.Id!).Order(), read.SelectMany(r => r).Select(r => r.Id!).Order());
        var total = (double)report.RecordsRead;
        Assert.InRange(read[0].Count / total, 0.75, 0.85);
        Assert.InRange(read[1].Count / total, 0.07, 0.13);
    }

    [Fact]
    public void The_same_seed_gives_the_same_split_and_another_seed_another()
    {
        var input = ManyPrompts(200, 3);
        var (a, _) = PromptSplit.Split(input, [0.5, 0.5], _files.PathFor("a"), seed: 1);
        var (b, _) = PromptSplit.Split(input, [0.5, 0.5], _files.PathFor("b"), seed: 1);
        var (c, _) = PromptSplit.Split(input, [0.5, 0.5], _files.PathFor("c"), seed: 2);
        Assert.Equal(["train", "test"], a.Select(p => p.Name));
        Assert.Equal(File.ReadAllBytes(a[1].Path), File.ReadAllBytes(b[1].Path));
        Assert.NotEqual(File.ReadAllBytes(a[1].Path), File.ReadAllBytes(c[1].Path));
    }

    [Theory]
    [InlineData("0.8,0.1", "sum to 1")]
    [InlineData("0.8,x,0.1", "not a number")]
    [InlineData("1", "2 or 3")]
    [InlineData("1.2,-0.1,-0.1", "non-negative")]
    public void Bad_fractions_are_refused_with_the_reason(string fractions, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => PromptSplit.ParseFractions(fractions));
        Assert.Contains(reason, e.Message);
    }

    [SharedDataFact]
    public void HH_harmless_splits_without_leakage()
    {
        var (parts, _) = PromptSplit.Split(SharedData.PathOf("data/hh-rlhf-harmless-test.jsonl"), [0.8, 0.1, 0.1], _files.PathFor("hh"));
        var prompts = parts.Select(p => DataFiles.ReadAll(p.Path).Select(r => r.Prompt).ToHashSet()).ToList();
        Assert.Empty(prompts[0].Intersect(prompts[1]));
        Assert.Empty(prompts[0].Intersect(prompts[2]));
        Assert.Empty(prompts[1].Intersect(prompts[2]));
    }
}
