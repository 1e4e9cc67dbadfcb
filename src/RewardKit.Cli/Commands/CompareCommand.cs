using System.CommandLine;
using System.Text.Json;
using RewardKit.Inference;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit compare</c>: Compare two responses: the calibrated probability that a is preferred to b.</summary>
public static class CompareCommand
{
    /// <summary>Builds the <c>compare</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var model = ScoringCli.ModelOption();
        var prompt = new Option<string>("--prompt") { Description = "The prompt.", Required = true };
        var a = new Option<string>("--a") { Description = "Response a.", Required = true };
        var b = new Option<string>("--b") { Description = "Response b.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print {\"reward_a\", \"reward_b\", \"p_a_preferred\", \"temperature\"} as JSON." };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var command = new Command("compare", "Compare two responses: the calibrated probability that a is preferred to b.") { model, prompt, a, b, json, skipVersion };
        command.SetAction(async (parse, ct) =>
        {
            using var loaded = ScoringCli.Load(parse.GetValue(model)!, parse.GetValue(skipVersion));
            var c = await new RewardScorer(loaded).CompareAsync(parse.GetValue(prompt)!, parse.GetValue(a)!, parse.GetValue(b)!, ct);
            Console.WriteLine(parse.GetValue(json)
                ? JsonSerializer.Serialize(new { reward_a = c.A.Raw, reward_b = c.B.Raw, p_a_preferred = c.ProbabilityAPreferred, temperature = c.Temperature })
                : $"P(a ≻ b) = {c.ProbabilityAPreferred:0.####}  (r_a {c.A.Raw:0.####}, r_b {c.B.Raw:0.####}, T {c.Temperature:0.###})");
            return CliApp.Success;
        });
        return command;
    }
}
