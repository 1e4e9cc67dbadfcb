using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using RewardKit.Data;
using RewardKit.Data.World;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit judge</c>: the built-in world's gold reward for every response of a file (see <see cref="GoldJudgeFile"/>).</summary>
public static class JudgeCommand
{
    /// <summary>Builds the <c>judge</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var data = new Option<FileInfo>("--data") { Description = "JSONL of generations (prompt, response), pairs, rankings or ratings on world prompts.", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "JSONL output: every record and field kept, plus gold_reward and gold_kind (pairs: _chosen/_rejected; rankings: gold_rewards, gold_kinds).", Required = true };
        var skip = new Option<bool>("--skip-invalid") { Description = "Skip invalid records (listed and counted) instead of stopping at the first." };
        var json = new Option<bool>("--json") { Description = "Print one JSON line last: records, responses, unknown_prompts, mean_gold_reward, kinds, skipped." };
        var command = new Command("judge", "Score responses with the built-in world's gold reward, recognised from the text alone (no model).") { data, output, skip, json };
        command.SetAction((parse, ct) =>
        {
            var input = parse.GetValue(data)!.FullName;
            var outPath = parse.GetValue(output)!.FullName;
            var result = GoldJudgeFile.Judge(input, outPath, new ReaderOptions { SkipInvalid = parse.GetValue(skip) }, ProgressBar(), ct);
            Print(result, outPath, parse.GetValue(json));
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    /// <summary>A progress bar on stderr, drawn at most every 200 ms, so a file judged in a blink prints none; one that was drawn is completed at 100 %.</summary>
    static IProgress<double> ProgressBar()
    {
        var lastDraw = Stopwatch.StartNew();
        var drawn = false;
        return new SynchronousProgress(fraction =>
        {
            if (fraction < 1 ? lastDraw.ElapsedMilliseconds < 200 : !drawn) return;
            lastDraw.Restart();
            drawn = true;
            var filled = (int)(Math.Clamp(fraction, 0, 1) * 30);
            Console.Error.Write($"\r[{new string('#', filled)}{new string('.', 30 - filled)}] {fraction,4:P0}{(fraction >= 1 ? "\n" : "")}");
        });
    }

    sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    static void Print(GoldJudgeFileResult r, string outPath, bool json)
    {
        foreach (var issue in r.Report.Skipped) Console.WriteLine($"invalid (skipped): {issue}");
        var issues = $"{(r.Report.SkippedCount > 0 ? $", {r.Report.SkippedCount:N0} invalid skipped" : "")}{(r.Report.WarningCount > 0 ? $", {r.Report.WarningCount:N0} warnings" : "")}";
        Console.WriteLine($"read {r.Records:N0} {r.RecordKind}{issues}; judged {r.Responses:N0} responses -> {outPath}");
        if (r.Responses > 0) Console.WriteLine($"mean gold reward {r.MeanReward:F4}; kinds: {string.Join(", ", r.Kinds.Take(12).Select(k => $"{k.Key} {k.Value:N0}"))}{(r.Kinds.Count > 12 ? ", ..." : "")}");
        if (r.UnknownPrompts > 0)
            Console.WriteLine($"warning: {r.UnknownPrompts:N0} response(s) answer prompts the world does not write: gold_reward null, gold_kind \"{GoldJudge.UnknownPromptKind}\"");
        if (r.InputGold > 0)
            Console.WriteLine($"the input carried gold rewards for {r.InputGold:N0} of the judged responses; {r.InputGoldDiffers:N0} differed and were replaced");
        if (!json) return;
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["out"] = outPath,
            ["records"] = r.Records,
            ["record_kind"] = r.RecordKind,
            ["responses"] = r.Responses,
            ["unknown_prompts"] = r.UnknownPrompts,
            ["mean_gold_reward"] = double.IsNaN(r.MeanReward) ? null : Math.Round(r.MeanReward, 6),
            ["kinds"] = r.Kinds.ToDictionary(k => k.Key, k => k.Value),
            ["input_gold"] = r.InputGold,
            ["input_gold_differs"] = r.InputGoldDiffers,
            ["skipped"] = r.Report.SkippedCount,
        }));
    }
}
