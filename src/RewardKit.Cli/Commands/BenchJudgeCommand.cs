using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using RewardKit.Data;
using RewardKit.Data.World;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit bench judge</c>: responses per second of <see cref="GoldJudge"/> on a generated world, 1 thread.</summary>
public static class BenchJudgeCommand
{
    /// <summary>Builds the <c>bench judge</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var pairs = new Option<int>("--pairs") { Description = "Training pairs of the generated world (its rankings and ratings come along).", DefaultValueFactory = _ => 2_000 };
        var seed = new Option<ulong>("--seed") { Description = "World seed.", DefaultValueFactory = _ => 1 };
        var repeats = new Option<int>("--repeats") { Description = "Timed passes per workload (after 1 s of warm-up); the median is reported.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print the results as one JSON object." };
        var command = new Command("judge", "Gold judge responses/s on a world's own responses and on perturbed copies (cut, word dropped, doubled), 1 thread.")
        {
            pairs, seed, repeats, json,
        };
        command.SetAction((parse, ct) =>
        {
            var world = Directory.CreateTempSubdirectory("rk-bench-judge-").FullName;
            try
            {
                var n = parse.GetValue(pairs);
                PreferenceWorld.Generate(world, new WorldOptions { Seed = parse.GetValue(seed), TrainPairs = n, ValidationPairs = n / 10, TestPairs = n / 10 }, cancellationToken: ct);
                var texts = Responses(world);
                var perturbed = Perturb(texts, parse.GetValue(seed));
                var passes = Math.Max(1, parse.GetValue(repeats));
                var (worldRate, worldMean) = Rate(texts, passes, ct);
                var (perturbedRate, perturbedMean) = Rate(perturbed, passes, ct);
                var incoherent = perturbed.Average(t => GoldJudge.Judge(t.Prompt, t.Response).Recognised ? 0.0 : 1.0);
                var result = new Dictionary<string, object>
                {
                    ["bench"] = "judge",
                    ["responses"] = texts.Count,
                    ["mean_response_chars"] = Math.Round(texts.Average(t => t.Response.Length), 1),
                    ["world_responses_per_s"] = Math.Round(worldRate),
                    ["world_mean_gold"] = Math.Round(worldMean, 4),
                    ["perturbed_responses_per_s"] = Math.Round(perturbedRate),
                    ["perturbed_mean_gold"] = Math.Round(perturbedMean, 4),
                    ["perturbed_unrecognised_share"] = Math.Round(incoherent, 4),
                    ["repeats"] = passes,
                    ["cores"] = Environment.ProcessorCount,
                };
                if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(result));
                else
                    Console.WriteLine($"{texts.Count:N0} responses: world {worldRate:N0}/s (mean gold {worldMean:F3}); perturbed {perturbedRate:N0}/s " +
                        $"(mean gold {perturbedMean:F3}, {incoherent:P1} unrecognised); 1 thread, median of {passes}");
            }
            finally
            {
                Directory.Delete(world, recursive: true);
            }
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    /// <summary>Every (prompt, response) of the world's files.</summary>
    static List<(string Prompt, string Response)> Responses(string dir)
    {
        var all = new List<(string, string)>();
        foreach (var file in Directory.GetFiles(dir, "*.jsonl").Order(StringComparer.Ordinal))
            foreach (var record in new PreferenceReader(file).ReadRecords())
                switch (record)
                {
                    case PreferencePair p: all.Add((p.Prompt, p.Chosen)); all.Add((p.Prompt, p.Rejected)); break;
                    case RankedGroup g: all.AddRange(g.Responses.Select(r => (g.Prompt, r))); break;
                    case RatedResponse r: all.Add((r.Prompt, r.Response)); break;
                }
        return all;
    }

    /// <summary>What an RL policy might write instead: the response cut at a random point, with a word dropped, or twice.</summary>
    static List<(string Prompt, string Response)> Perturb(List<(string Prompt, string Response)> texts, ulong seed)
    {
        var rng = new DeterministicRandom(seed + 1);
        return texts.Select(t =>
        {
            var words = t.Response.Split(' ');
            var (how, at) = (rng.Next(3), rng.Next(t.Response.Length + 1));
            var response = how switch
            {
                0 => t.Response[..at],
                1 when words.Length > 1 => string.Join(' ', words.Where((_, i) => i != at % words.Length)),
                _ => t.Response + " " + t.Response,
            };
            return (t.Prompt, response);
        }).ToList();
    }

    /// <summary>Median responses/s over <paramref name="passes"/> timed passes after 1 s of warm-up, and the mean gold reward.</summary>
    static (double Rate, double MeanGold) Rate(List<(string Prompt, string Response)> texts, int passes, CancellationToken ct)
    {
        double sum = 0;
        double Pass()
        {
            ct.ThrowIfCancellationRequested();
            sum = 0;
            var clock = Stopwatch.StartNew();
            foreach (var (prompt, response) in texts) sum += GoldJudge.Judge(prompt, response).Reward;
            return clock.Elapsed.TotalSeconds;
        }
        for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 1;) Pass();
        var seconds = Enumerable.Range(0, passes).Select(_ => Pass()).Order().ToArray();
        return (texts.Count / seconds[seconds.Length / 2], sum / texts.Count);
    }
}
