using RewardKit.Data;
using RewardKit.Data.World;

namespace RewardKit.Tests.DataFormats;

public sealed class PreferenceWorldTests : IDisposable
{
    readonly DataFiles _files = new();
    public void Dispose() => _files.Dispose();

    static readonly WorldOptions Small = new() { TrainPairs = 1_000, ValidationPairs = 200, TestPairs = 2_000 };

    static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.GetFiles(dir).Order(StringComparer.Ordinal).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [Fact]
    public void The_same_seed_gives_byte_identical_files_and_another_seed_does_not()
    {
        PreferenceWorld.Generate(_files.PathFor("a"), Small with { Seed = 7 });
        PreferenceWorld.Generate(_files.PathFor("b"), Small with { Seed = 7 });
        PreferenceWorld.Generate(_files.PathFor("c"), Small with { Seed = 8 });
        var a = Snapshot(_files.PathFor("a"));
        var b = Snapshot(_files.PathFor("b"));
        Assert.Contains("world.json", a.Keys);
        Assert.Equal(a.Keys, b.Keys);
        foreach (var (name, bytes) in a) Assert.True(bytes.AsSpan().SequenceEqual(b[name]), $"{name} differs between two runs with seed 7");
        Assert.False(a["train.jsonl"].AsSpan().SequenceEqual(Snapshot(_files.PathFor("c"))["train.jsonl"]));
    }

    [Fact]
    public void Bayes_optimal_test_accuracy_at_the_default_temperature_is_between_080_and_095()
    {
        var dir = _files.PathFor("w");
        var summary = PreferenceWorld.Generate(dir, Small);
        var test = summary["test"];
        Assert.InRange(test.BayesOptimalAccuracy, 0.80, 0.95);
        // the reported number is the mean of max(p, 1-p) over what was written
        var (pairs, _) = PreferenceReader.ReadAllPairs(Path.Combine(dir, "test.jsonl"));
        Assert.Equal(test.Pairs, pairs.Count);
        Assert.Equal(pairs.Average(p => Math.Max(p.PTrue!.Value, 1 - p.PTrue.Value)), test.BayesOptimalAccuracy, 9);
        // labels follow the gold reward: the chosen response has the higher gold reward about as often as p_true says
        var goldAgrees = pairs.Average(p => p.GoldChosen > p.GoldRejected ? 1.0 : 0.0);
        Assert.InRange(goldAgrees, test.BayesOptimalAccuracy - 0.05, test.BayesOptimalAccuracy + 0.05);
    }

    [Fact]
    public void World_splits_share_no_prompt_and_every_file_reads_cleanly()
    {
        var dir = _files.PathFor("w");
        PreferenceWorld.Generate(dir, Small);
        var promptsBySplit = PreferenceWorld.SplitNames.Select(s =>
            new[] { s, $"rankings-{s}", $"ratings-{s}" }
                .SelectMany(f => DataFiles.ReadAll(Path.Combine(dir, f + ".jsonl")))
                .Select(r => r.Prompt).ToHashSet()).ToList();
        for (var i = 0; i < 3; i++)
            for (var j = i + 1; j < 3; j++)
                Assert.Empty(promptsBySplit[i].Intersect(promptsBySplit[j]));
    }
    [Fact]
    public void Every_split_has_the_documented_family_mix_even_for_families_with_few_distinct_prompts()
    {
        var dir = _files.PathFor("w");
        PreferenceWorld.Generate(dir, new WorldOptions { TrainPairs = 4_000, ValidationPairs = 1_000, TestPairs = 1_000 });
        foreach (var split in PreferenceWorld.SplitNames)
        {
            var (pairs, _) = PreferenceReader.ReadAllPairs(Path.Combine(dir, split + ".jsonl"));
            foreach (var (family, share) in TaskFamilies.FamilyShares)
            {
                double observed = pairs.Count(p => p.Category == family) / (double)pairs.Count;
                Assert.True(Math.Abs(observed - share) < 0.05, $"{split}: family {family} has share {observed:F3}, documented {share:F2}");
            }
        }
    }

    [Fact]
    public void A_prompts_split_depends_only_on_its_text_and_follows_the_split_shares()
    {
        double[] ends = [0.8, 0.9, 1.0];
        var texts = Enumerable.Range(0, 20_000).Select(i => $"What is {i % 97} + {i / 97}?").ToList();
        var splits = texts.Select(t => PreferenceWorld.SplitOf(t, ends)).ToList();
        Assert.Equal(splits, texts.Select(t => PreferenceWorld.SplitOf(t, ends)));
        Assert.InRange(splits.Count(s => s == 0) / 20_000.0, 0.78, 0.82);
        Assert.InRange(splits.Count(s => s == 2) / 20_000.0, 0.09, 0.11);
    }

    [Fact]
    public void Off_topic_answers_are_the_correct_answer_to_a_prompt_of_another_family()
    {
        // Every family's correct answers, collected from many prompts, tell which family a response text belongs to.
        var rng = new DeterministicRandom(3);
        var correctByFamily = new Dictionary<string, HashSet<string>>();
        foreach (var family in TaskFamilies.Families)
        {
            correctByFamily[family] = [];
            for (var i = 0; i < 4_000; i++) correctByFamily[family].Add(TaskFamilies.Make(family, rng, nested: true).Candidates[0].Text);
        }
        int offTopic = 0, recognised = 0;
        for (var i = 0; i < 600; i++)
        {
            var family = TaskFamilies.Families[i % TaskFamilies.Families.Length];
            var prompt = TaskFamilies.Make(family, rng);
            Assert.Equal(family, prompt.Family);
            foreach (var c in prompt.Candidates.Where(c => c.Kind == "off_topic"))
            {
                offTopic++;
                Assert.DoesNotContain(c.Text, correctByFamily[family]);
                Assert.DoesNotContain(c.Text, correctByFamily["harmful"]);
                // Some answers (JSON records, arithmetic phrasings) are too many to collect; most are recognised.
                if (TaskFamilies.Families.Any(f => f != family && correctByFamily[f].Contains(c.Text))) recognised++;
            }
        }
        Assert.True(offTopic > 400, $"only {offTopic} off-topic candidates in 600 prompts");
        Assert.True(recognised > 0.6 * offTopic, $"only {recognised} of {offTopic} off-topic answers are another family's correct answer");
    }

    [Fact]
    public void Wrong_answers_and_hedges_state_their_fact_so_a_response_shows_what_it_claims()
    {
        var rng = new DeterministicRandom(5);
        for (var i = 0; i < 300; i++)
        {
            var prompt = TaskFamilies.Make("arithmetic", rng);
            var correct = prompt.Candidates.Single(c => c.Kind == "correct").Text;
            var hedged = prompt.Candidates.Single(c => c.Kind == "hedged_correct").Text;
            var wrong = prompt.Candidates.Single(c => c.Kind == "wrong_answer").Text;
            // "a op b = c." or "a word b is c.": the operands of all three are the prompt's.
            var words = correct.Split(' ');
            Assert.StartsWith(words[0] + " ", wrong);
            Assert.Equal(words[2], wrong.Split(' ')[2]);
            Assert.NotEqual(correct.TrimEnd('.').Split(' ')[^1], wrong.TrimEnd('.').Split(' ')[^1]);
            Assert.Contains(correct.Split(' ')[0], hedged);
            Assert.Contains(correct.TrimEnd('.').Split(' ')[^1], hedged);
        }
    }
}
