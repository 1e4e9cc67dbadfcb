using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Data.World;

/// <summary>What one split of a generated world holds.</summary>
/// <param name="Name">"train", "validation" or "test".</param>
/// <param name="Pairs">Pairs written to <c>{Name}.jsonl</c>.</param>
/// <param name="Prompts">Distinct prompts behind those pairs.</param>
/// <param name="RankedGroups">Groups written to <c>rankings-{Name}.jsonl</c>.</param>
/// <param name="Ratings">Rated responses written to <c>ratings-{Name}.jsonl</c>.</param>
/// <param name="BayesOptimalAccuracy">Mean of max(p_true, 1 - p_true) over the split's pairs: the best any model can score.</param>
/// <param name="LongerWinsShare">Share of pairs whose chosen response is the longer one (a length-only baseline's accuracy).</param>
public sealed record WorldSplit(string Name, int Pairs, int Prompts, int RankedGroups, int Ratings, double BayesOptimalAccuracy, double LongerWinsShare);

/// <summary>The result of <see cref="PreferenceWorld.Generate"/>.</summary>
/// <param name="Directory">Where the files were written.</param>
/// <param name="Splits">Train, validation and test.</param>
public sealed record WorldSummary(string Directory, IReadOnlyList<WorldSplit> Splits)
{
    /// <summary>The split called <paramref name="name"/>.</summary>
    public WorldSplit this[string name] => Splits.First(s => s.Name == name);
}

/// <summary>
/// The built-in preference world: a seeded generator of preference data whose true reward is known
/// (<see cref="GoldReward"/>), so accuracy can be compared with the Bayes-optimal bound and calibration with p_true.
/// Writes <c>train.jsonl</c>, <c>validation.jsonl</c>, <c>test.jsonl</c> (pairs, split by prompt),
/// <c>rankings-*.jsonl</c> (k = 3..6), <c>ratings-*.jsonl</c> (1-5) and <c>world.json</c>.
/// The same options give byte-identical files on every platform (own RNG, invariant formatting, no hash order).
/// </summary>
public static class PreferenceWorld
{
    /// <summary>The split names, in order.</summary>
    public static readonly string[] SplitNames = ["train", "validation", "test"];

    /// <summary>The <c>source</c> field of every generated record.</summary>
    public const string SourceName = "rewardkit-world/v3";

    /// <summary>Generates the world into <paramref name="directory"/> (created if needed), reporting progress in [0, 1].</summary>
    public static WorldSummary Generate(string directory, WorldOptions? options = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new WorldOptions();
        options.Validate();
        Directory.CreateDirectory(directory);
        var rng = new DeterministicRandom(options.Seed);
        int[] pairTargets = [options.TrainPairs, options.ValidationPairs, options.TestPairs];
        var splitEnds = SplitEnds(pairTargets);
        var total = pairTargets.Sum() * (1 + options.RankingsFraction + options.RatingsFraction);
        double done = 0;
        var splits = new List<WorldSplit>();
        for (var s = 0; s < 3; s++)
        {
            var name = SplitNames[s];
            var splitRng = new DeterministicRandom(rng.NextUInt64());
            var pairs = new List<PreferencePair>();
            var prompts = 0;
            while (pairs.Count < pairTargets[s])
            {
                cancellationToken.ThrowIfCancellationRequested();
                var prompt = DrawPrompt(splitRng, splitEnds, s);
                prompts++;
                foreach (var pair in SamplePairs(prompt, splitRng, options, name, pairs.Count))
                {
                    if (pairs.Count >= pairTargets[s]) break;
                    pairs.Add(pair);
                }
                progress?.Report(Math.Min(1, (done + pairs.Count) / Math.Max(1, total)));
            }
            done += pairs.Count;
            PreferenceWriter.WriteAll(Path.Combine(directory, name + ".jsonl"), pairs, FileContainer.Jsonl, cancellationToken);

            var groups = new List<PreferenceRecord>();
            var groupTarget = (int)Math.Round(pairTargets[s] * options.RankingsFraction);
            while (groups.Count < groupTarget)
            {
                cancellationToken.ThrowIfCancellationRequested();
                groups.Add(SampleRanking(DrawPrompt(splitRng, splitEnds, s), splitRng, options, $"world-{name}-rank-{groups.Count:D6}"));
            }
            done += groupTarget;
            PreferenceWriter.WriteAll(Path.Combine(directory, $"rankings-{name}.jsonl"), groups, FileContainer.Jsonl, cancellationToken);

            var ratings = new List<PreferenceRecord>();
            var ratingPrompts = (int)Math.Round(pairTargets[s] * options.RatingsFraction);
            for (var i = 0; i < ratingPrompts; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ratings.AddRange(SampleRatings(DrawPrompt(splitRng, splitEnds, s), splitRng, options, $"world-{name}-rate-{i:D6}"));
            }
            done += ratingPrompts;
            progress?.Report(Math.Min(1, done / Math.Max(1, total)));
            PreferenceWriter.WriteAll(Path.Combine(directory, $"ratings-{name}.jsonl"), ratings, FileContainer.Jsonl, cancellationToken);

            var bayes = pairs.Count == 0 ? double.NaN : pairs.Average(p => Math.Max(p.PTrue!.Value, 1 - p.PTrue.Value));
            var longer = pairs.Count == 0 ? double.NaN : pairs.Average(p => p.Chosen.Length > p.Rejected.Length ? 1.0 : p.Chosen.Length == p.Rejected.Length ? 0.5 : 0.0);
            splits.Add(new WorldSplit(name, pairs.Count, prompts, groups.Count, ratings.Count, bayes, longer));
        }
        WriteWorldJson(Path.Combine(directory, "world.json"), options, splits);
        progress?.Report(1);
        return new WorldSummary(directory, splits);
    }

    /// <summary>
    /// A prompt of a family drawn with <see cref="TaskFamilies.FamilyShares"/> whose text belongs to <paramref name="split"/>.
    /// The family is drawn first and kept while texts are redrawn, so every split has the same family mix (the first world
    /// gave a prompt to whichever split drew it first, so train took every text of the small families and the test split
    /// was 42 % arithmetic instead of 18 %).
    /// </summary>
    static WorldPrompt DrawPrompt(DeterministicRandom rng, double[] splitEnds, int split)
    {
        var family = TaskFamilies.PickFamily(rng);
        for (var attempt = 0; ; attempt++)
        {
            var prompt = TaskFamilies.Make(family, rng);
            if (SplitOf(prompt.Text, splitEnds) == split) return prompt;
            if (attempt > 100_000) throw new InvalidOperationException($"the world found no '{family}' prompt for split {SplitNames[split]}; ask for more pairs in that split");
        }
    }

    /// <summary>
    /// The split that owns a prompt text: u = FNV-1a-64(UTF-8 text) mapped to [0, 1), split s when
    /// splitEnds[s-1] ≤ u &lt; splitEnds[s] (the ends are the cumulative shares of the splits' pairs). A pure function
    /// of the text, so no prompt crosses splits and the assignment does not depend on the order of drawing.
    /// </summary>
    internal static int SplitOf(string text, double[] splitEnds)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(text)) hash = (hash ^ b) * 1099511628211UL;
        hash ^= hash >> 33; hash *= 0xff51afd7ed558ccdUL; hash ^= hash >> 33; // FNV's low bits mix poorly for short texts
        var u = (hash >> 11) * (1.0 / (1UL << 53));
        for (var s = 0; s < splitEnds.Length; s++)
            if (u < splitEnds[s]) return s;
        return splitEnds.Length - 1;
    }

    /// <summary>Cumulative shares of the splits' pairs, in split order (the last is 1).</summary>
    static double[] SplitEnds(int[] pairTargets)
    {
        double total = pairTargets.Sum(), sum = 0;
        var ends = new double[pairTargets.Length];
        for (var s = 0; s < ends.Length; s++) ends[s] = (sum += pairTargets[s]) / total;
        ends[^1] = 1;
        return ends;
    }


    /// <summary>P(a ≻ b) for an annotator: (1 - flip)·σ(Δ/(T·scale)) + flip/2, rounded to 6 decimals.</summary>
    static double Preference(double delta, WorldOptions o, AnnotatorProfile a) =>
        Math.Round((1 - a.FlipRate) * Activations.Sigmoid(delta / (o.Temperature * a.TemperatureScale)) + a.FlipRate / 2, 6);

    static IEnumerable<PreferencePair> SamplePairs(WorldPrompt prompt, DeterministicRandom rng, WorldOptions o, string split, int start)
    {
        var c = prompt.Candidates;
        var used = new HashSet<(int, int)>();
        for (var k = 0; k < o.PairsPerPrompt && used.Count < c.Count * (c.Count - 1) / 2; k++)
        {
            int i, j;
            do { i = rng.Next(c.Count); j = rng.Next(c.Count); } while (i == j || used.Contains((Math.Min(i, j), Math.Max(i, j))));
            used.Add((Math.Min(i, j), Math.Max(i, j)));
            var annotator = rng.Pick(o.Annotators);
            var p = Preference(c[i].Gold - c[j].Gold, o, annotator);
            var iWins = rng.NextDouble() < p;
            var (w, l) = iWins ? (c[i], c[j]) : (c[j], c[i]);
            var pTrue = iWins ? p : Math.Round(1 - p, 6);
            var labels = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["helpfulness"] = Math.Sign(w.Scores.Helpfulness - l.Scores.Helpfulness),
                ["harmlessness"] = Math.Sign(w.Scores.Harmlessness - l.Scores.Harmlessness),
                ["honesty"] = Math.Sign(w.Scores.Honesty - l.Scores.Honesty),
            };
            yield return new PreferencePair
            {
                Id = $"world-{split}-{start + k:D6}",
                Source = SourceName,
                Category = prompt.Family,
                Prompt = prompt.Text,
                Chosen = w.Text,
                Rejected = l.Text,
                Annotator = annotator.Name,
                Labels = labels,
                GoldChosen = w.Gold,
                GoldRejected = l.Gold,
                PTrue = pTrue,
                Extra = Kinds(("kind_chosen", w.Kind), ("kind_rejected", l.Kind)),
            };
        }
    }

    static IReadOnlyDictionary<string, JsonElement> Kinds(params (string Key, string Value)[] items)
    {
        var d = new OrderedDictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (k, v) in items) d[k] = JsonSerializer.SerializeToElement(v);
        return d;
    }

    /// <summary>k = 3..6 distinct candidates ranked by a Plackett-Luce draw at the annotator's temperature.</summary>
    static RankedGroup SampleRanking(WorldPrompt prompt, DeterministicRandom rng, WorldOptions o, string id)
    {
        var pool = Enumerable.Range(0, prompt.Candidates.Count).ToList();
        rng.Shuffle(pool);
        var chosen = pool.Take(Math.Min(prompt.Candidates.Count, rng.Between(3, 6))).ToList();
        var annotator = rng.Pick(o.Annotators);
        var t = o.Temperature * annotator.TemperatureScale;
        var remaining = new List<int>(chosen);
        var ranks = new int[chosen.Count];
        for (var rank = 0; remaining.Count > 0; rank++)
        {
            var weights = remaining.Select(i => Math.Exp(prompt.Candidates[i].Gold / t)).ToArray();
            var u = rng.NextDouble() * weights.Sum();
            var pick = 0;
            while (pick < weights.Length - 1 && (u -= weights[pick]) >= 0) pick++;
            if (rng.Chance(annotator.FlipRate)) pick = rng.Next(remaining.Count);
            ranks[chosen.IndexOf(remaining[pick])] = rank;
            remaining.RemoveAt(pick);
        }
        return new RankedGroup
        {
            Id = id,
            Source = SourceName,
            Category = prompt.Family,
            Prompt = prompt.Text,
            Responses = chosen.Select(i => prompt.Candidates[i].Text).ToList(),
            Ranks = ranks,
            GoldRewards = chosen.Select(i => prompt.Candidates[i].Gold).ToList(),
            Extra = Kinds(("annotator", annotator.Name)),
        };
    }

    /// <summary>3-4 responses rated 1-5: round(3 + 0.8·gold + noise·scale), clamped.</summary>
    static IEnumerable<RatedResponse> SampleRatings(WorldPrompt prompt, DeterministicRandom rng, WorldOptions o, string id)
    {
        var pool = Enumerable.Range(0, prompt.Candidates.Count).ToList();
        rng.Shuffle(pool);
        var annotator = rng.Pick(o.Annotators);
        var k = Math.Min(prompt.Candidates.Count, rng.Between(3, 4));
        for (var n = 0; n < k; n++)
        {
            var c = prompt.Candidates[pool[n]];
            var raw = 3 + 0.8 * c.Gold + 0.6 * o.Temperature * annotator.TemperatureScale * rng.NextGaussian();
            yield return new RatedResponse
            {
                Id = $"{id}-{n}",
                Source = SourceName,
                Category = prompt.Family,
                Prompt = prompt.Text,
                Response = c.Text,
                Rating = Math.Clamp(Math.Round(raw, MidpointRounding.AwayFromZero), 1, 5),
                GoldReward = c.Gold,
                Annotator = annotator.Name,
            };
        }
    }

    static void WriteWorldJson(string path, WorldOptions o, List<WorldSplit> splits)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("name", SourceName);
        w.WriteString("description", "RewardKit's built-in preference world: synthetic prompts and responses whose true (gold) reward is known. "
            + "What decides a pair is visible in text a small model can learn: wrong answers and hedges restate their fact (3 + 4 = 8, the capital of France is Madrid) "
            + "from small memorisable tables; an off-topic answer is the correct answer to a prompt of another family (a capital for a sum), so it needs the prompt "
            + "but only its family; a broken list count lists 7-8 items where prompts ask for 2-5.");
        w.WriteStartObject("options");
        w.WriteNumber("seed", o.Seed);
        w.WriteNumber("train_pairs", o.TrainPairs);
        w.WriteNumber("validation_pairs", o.ValidationPairs);
        w.WriteNumber("test_pairs", o.TestPairs);
        w.WriteNumber("pairs_per_prompt", o.PairsPerPrompt);
        w.WriteNumber("temperature", o.Temperature);
        w.WriteNumber("rankings_fraction", o.RankingsFraction);
        w.WriteNumber("ratings_fraction", o.RatingsFraction);
        w.WriteEndObject();
        w.WriteStartObject("bayes_optimal_accuracy");
        foreach (var s in splits) w.WriteNumber(s.Name, Math.Round(s.BayesOptimalAccuracy, 6));
        w.WriteEndObject();
        w.WriteStartObject("longer_wins_share");
        foreach (var s in splits) w.WriteNumber(s.Name, Math.Round(s.LongerWinsShare, 6));
        w.WriteEndObject();
        w.WriteStartArray("splits");
        foreach (var s in splits)
        {
            w.WriteStartObject();
            w.WriteString("name", s.Name);
            w.WriteString("pairs_file", s.Name + ".jsonl");
            w.WriteString("rankings_file", $"rankings-{s.Name}.jsonl");
            w.WriteString("ratings_file", $"ratings-{s.Name}.jsonl");
            w.WriteNumber("pairs", s.Pairs);
            w.WriteNumber("prompts", s.Prompts);
            w.WriteNumber("ranked_groups", s.RankedGroups);
            w.WriteNumber("ratings", s.Ratings);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("split_rule", "by prompt text: FNV-1a-64 of the text picks the split in proportion to its pairs, so no prompt appears in two splits and every split has the same family mix");
        w.WriteStartObject("gold_reward");
        w.WriteString("formula", GoldReward.Formula);
        w.WriteString("rounding", "gold rewards to 4 decimals, probabilities to 6");
        w.WriteStartArray("terms");
        foreach (var t in GoldReward.Terms)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("objective", t.Objective);
            w.WriteNumber("weight", t.Weight);
            w.WriteString("applies_when", t.AppliesWhen);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartArray("annotators");
        foreach (var a in o.Annotators)
        {
            w.WriteStartObject();
            w.WriteString("name", a.Name);
            w.WriteNumber("temperature_scale", a.TemperatureScale);
            w.WriteNumber("flip_rate", a.FlipRate);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("families");
        foreach (var (f, share) in TaskFamilies.FamilyShares) w.WriteNumber(f, share);
        w.WriteEndObject();
        w.WriteStartObject("fields");
        w.WriteString("pairs", "id, source, category (family), prompt, chosen, rejected, annotator, labels {helpfulness, harmlessness, honesty: sign of the objective's difference}, gold_reward_chosen, gold_reward_rejected, p_true, kind_chosen, kind_rejected");
        w.WriteString("rankings", "id, source, category, prompt, responses, ranks (0 = best, Plackett-Luce draw at the annotator's temperature), gold_rewards, annotator");
        w.WriteString("ratings", "id, source, category, prompt, response, rating (1-5: round(3 + 0.8 gold + 0.6 T scale N(0,1)), clamped), gold_reward, annotator");
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
        stream.WriteByte((byte)'\n');
    }

    internal static string Invariant(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
