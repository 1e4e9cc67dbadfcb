using System.Text.Json;
using RewardKit.Data;
using RewardKit.Quickstart;
using RewardKit.Tests.Training;
using RewardKit.Training;

namespace RewardKit.Tests.Quickstart;

public sealed class RealDataQuickstartTests : IDisposable
{
    readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "rk-real-quickstart-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    /// <summary>A tiny slice shaped like the shared sets: pairs, pairs with one invalid record (chosen is a JSON boolean), rankings.</summary>
    string WriteRealSlice()
    {
        var data = Directory.CreateDirectory(Path.Combine(_dir, "data-in")).FullName;
        TrainingTestData.WritePairs(data, "hh-rlhf-harmless-test.jsonl", 30);
        var pandalm = TrainingTestData.WritePairs(data, "pandalm-test.jsonl", 20, seed: 2);
        File.AppendAllText(pandalm, "{\"prompt\":\"Tell me about tea, number 99.\",\"chosen\":true,\"rejected\":\"No.\"}\n");
        using var w = new StreamWriter(Path.Combine(data, "oasst-en100-ranked.jsonl"));
        for (int i = 0; i < 10; i++)
            w.WriteLine(JsonSerializer.Serialize(new
            {
                prompt = $"Tell me about music, number {i}.",
                responses = new[] { "Sure, happy to help: here is a clear answer about music. Thank you for asking!", "Whatever, music is boring.", "No." },
                ranks = new[] { 0, 1, 2 },
            }));
        return data;
    }

    [Fact]
    public void Each_real_set_is_split_by_prompt_and_its_held_out_part_evaluated_beside_both_baselines_with_intervals()
    {
        var data = WriteRealSlice();
        var options = new RealDataQuickstartOptions
        {
            DataDirectory = data, Backbone = TrainingTestData.TinyBertBackbone(_dir), MaxLength = 48, MaxSteps = 4, BatchSize = 8, LearningRate = 1e-3, Threads = 2,
        };
        var result = RealDataQuickstart.Run(options, Path.Combine(_dir, "out"));

        Assert.Equal(4, result.Training.Steps);
        Assert.Equal(["hh-rlhf-harmless-test", "pandalm-test", "oasst-en100-ranked"], result.Sets.Select(s => s.Name));
        var pandalm = result.Sets[1];
        Assert.Equal(1, pandalm.InvalidSkipped);
        Assert.Contains("chosen", Assert.Single(pandalm.Skipped));
        foreach (var set in result.Sets)
        {
            var prompts = set.Split.Select(p => PreferenceReader.ReadAllPairs(p.Path).Pairs.Select(r => r.Prompt).ToHashSet()).ToList();
            Assert.Empty(prompts[0].Intersect(prompts[1]));
            Assert.True(set.Split[1].Records > 0, $"{set.Name}: empty test part");
            var report = set.Evaluation.Report;
            Assert.Equal(["length_only", "response_only"], report.Baselines!.Keys.Order());
            Assert.All(report.Baselines.Values, e => Assert.True(e.Lower <= e.Value && e.Value <= e.Upper));
        }
        Assert.Equal(3 * 3, result.Reports.Count);
        Assert.True(File.Exists(Path.Combine(_dir, "out", "report", "pandalm-test", "report.json")));
    }

    [Fact]
    public void A_folder_without_the_real_sets_is_refused_naming_the_flag()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        var e = Assert.Throws<ArgumentException>(() => RealDataQuickstart.Run(new RealDataQuickstartOptions { DataDirectory = empty }, Path.Combine(_dir, "out")));
        Assert.Contains("--data-dir", e.Message);
        Assert.Contains("hh-rlhf-harmless-test.jsonl", e.Message);
        var missing = Assert.Throws<ArgumentException>(() => new RealDataQuickstartOptions { DataDirectory = Path.Combine(_dir, "nope") }.Validate());
        Assert.Contains("no such folder", missing.Message);
    }
}
