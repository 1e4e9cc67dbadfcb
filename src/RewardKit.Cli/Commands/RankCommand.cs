using System.CommandLine;
using System.Text.Json;
using RewardKit.Inference;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit rank</c>: Rank the responses to a prompt.</summary>
public static class RankCommand
{
    /// <summary>Builds the <c>rank</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var model = ScoringCli.ModelOption();
        var prompt = new Option<string>("--prompt") { Description = "The prompt.", Required = true };
        var responses = ScoringCli.ResponsesOption();
        var json = new Option<bool>("--json") { Description = "Print the ranking as JSON." };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var command = new Command("rank", "Rank the responses to a prompt.") { model, prompt, responses, json, skipVersion };
        command.SetAction(async (parse, ct) =>
        {
            using var loaded = ScoringCli.Load(parse.GetValue(model)!, parse.GetValue(skipVersion));
            var scorer = new RewardScorer(loaded);
            var texts = parse.GetValue(responses)!;
            var ranked = await scorer.RankAsync(parse.GetValue(prompt)!, texts, ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(ranked.Select(r => new { index = r.Index, reward = r.Score.Raw, normalized = r.Score.Normalized, probability_best = r.ProbabilityBest, response = texts[r.Index] })));
                return CliApp.Success;
            }
            Console.WriteLine($"rank  reward      P(best)  response (T = {scorer.Temperature:0.###})");
            for (var i = 0; i < ranked.Length; i++)
                Console.WriteLine($"{i + 1,4}  {ranked[i].Score.Raw,10:0.####}  {ranked[i].ProbabilityBest,7:0.###}  [{ranked[i].Index}] {Shorten(texts[ranked[i].Index])}");
            return CliApp.Success;
        });
        return command;
    }

    internal static string Shorten(string text) => text.Length <= 60 ? text.ReplaceLineEndings(" ") : text[..57].ReplaceLineEndings(" ") + "...";
}
