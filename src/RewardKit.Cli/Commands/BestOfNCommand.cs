using System.CommandLine;
using System.Text.Json;
using RewardKit.Inference;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit best-of-n</c>: Pick the best of n responses to a prompt.</summary>
public static class BestOfNCommand
{
    public static Command Create()
    {
        var model = ScoringCli.ModelOption();
        var prompt = new Option<string>("--prompt") { Description = "The prompt.", Required = true };
        var responses = ScoringCli.ResponsesOption();
        var json = new Option<bool>("--json") { Description = "Print {\"best_index\", \"reward\", \"probability_best\", \"response\"} as JSON." };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var command = new Command("best-of-n", "Pick the best of n responses to a prompt.") { model, prompt, responses, json, skipVersion };
        command.SetAction(async (parse, ct) =>
        {
            using var loaded = ScoringCli.Load(parse.GetValue(model)!, parse.GetValue(skipVersion));
            var texts = parse.GetValue(responses)!;
            var best = await new RewardScorer(loaded).BestOfNAsync(parse.GetValue(prompt)!, texts, ct);
            Console.WriteLine(parse.GetValue(json)
                ? JsonSerializer.Serialize(new { best_index = best.Index, reward = best.Score.Raw, probability_best = best.ProbabilityBest, response = texts[best.Index] })
                : $"best: [{best.Index}] reward {best.Score.Raw:0.####} P(best) {best.ProbabilityBest:0.###}\n{texts[best.Index]}");
            return CliApp.Success;
        });
        return command;
    }
}
