using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using RewardKit.Inference;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit score</c>: Score (prompt, response) pairs with a reward model.</summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var model = ScoringCli.ModelOption();
        var prompt = new Option<string>("--prompt") { Description = "The prompt (one pair mode)." };
        var response = new Option<string>("--response") { Description = "The response to score (one pair mode)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON line {\"reward\", \"normalized\", \"calibrated\", \"ids\"}." };
        var data = new Option<string>("--data") { Description = "JSONL input: {prompt, response} or {prompt, chosen, rejected} per line (batch mode)." };
        var output = new Option<string>("--out") { Description = "JSONL output (batch mode); a killed run resumes where it stopped." };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per forward pass (default 16).", DefaultValueFactory = _ => 16 };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var weights = new Option<string?>("--objective-weights")
        {
            Description = "Multi-objective models: the weights of the combined reward for this call, comma-separated, one per objective (default: those in rewardkit.json).",
        };
        var command = new Command("score", "Score (prompt, response) pairs with a reward model.") { model, prompt, response, json, data, output, batch, skipVersion, weights };
        command.SetAction(async (parse, ct) =>
        {
            using var opened = ScoringCli.Load(parse.GetValue(model)!, parse.GetValue(skipVersion));
            var loaded = ScoringCli.WithObjectiveWeights(opened, parse.GetValue(weights));   // a view: disposing `opened` is enough
            var scorer = new RewardScorer(loaded, new RewardScorerOptions { BatchSize = parse.GetValue(batch) });
            if (parse.GetValue(data) is { } input)
            {
                var outPath = parse.GetValue(output) ?? throw new UserErrorException("--data needs --out FILE for the scored rows.");
                return await ScoreFile(scorer, input, outPath, ct);
            }
            var p = parse.GetValue(prompt) ?? throw new UserErrorException("pass --prompt and --response, or --data IN.jsonl --out OUT.jsonl.");
            var r = parse.GetValue(response) ?? throw new UserErrorException("pass --response with the text to score.");
            var score = (await scorer.ScoreAsync([new ScoringItem(p, r)], ct))[0];
            if (parse.GetValue(json) && loaded is IObjectiveRewardModel heads)
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    reward = score.Raw, normalized = score.Normalized, calibrated = score.Calibrated, ids = scorer.Encode(p, r),
                    objectives = ScoringCli.ObjectiveRewards(heads, scorer.Encode(p, r)),
                }));
            else if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { reward = score.Raw, normalized = score.Normalized, calibrated = score.Calibrated, ids = scorer.Encode(p, r) }));
            else
                Console.WriteLine($"reward {score.Raw:0.######}  normalized {score.Normalized:0.####}  calibrated {score.Calibrated:0.####}");
            return CliApp.Success;
        });
        return command;
    }

    static async Task<int> ScoreFile(RewardScorer scorer, string input, string output, CancellationToken ct)
    {
        var lastDraw = Stopwatch.StartNew();
        var progress = new Progress<BatchScoringProgress>(p =>
        {
            if (lastDraw.ElapsedMilliseconds < 200 && p.BytesRead < p.TotalBytes) return;
            lastDraw.Restart();
            var fraction = p.TotalBytes == 0 ? 1 : (double)p.BytesRead / p.TotalBytes;
            var filled = (int)(fraction * 30);
            Console.Error.Write($"\r[{new string('#', filled)}{new string('.', 30 - filled)}] {fraction,4:P0} {p.Rows:N0} rows {p.RowsPerSecond:N0} rows/s ");
        });
        var result = await BatchScoring.RunAsync(scorer, input, output, progress: progress, cancellationToken: ct);
        Console.Error.WriteLine();
        if (result.ResumedRows > 0)
            Console.Error.WriteLine($"resumed: {result.ResumedRows:N0} rows were already in {output}{(result.TruncatedBytes > 0 ? $" (dropped a partial last line of {result.TruncatedBytes} bytes)" : "")}.");
        Console.WriteLine($"scored {result.ScoredRows:N0} rows in {result.Elapsed.TotalSeconds:0.0} s ({result.RowsPerSecond:N0} rows/s) -> {output}");
        return CliApp.Success;
    }
}

/// <summary>What the scoring verbs share: the --model option and the model loader seam.</summary>
static class ScoringCli
{
    public static Option<string> ModelOption() => new("--model") { Description = "The model folder (made by `rewardkit train`).", Required = true };

    /// <summary>Opens a model folder through <see cref="ModelLoading.Load(string, bool)"/> (the single loader the CLI uses).</summary>
    public static IRewardModel Load(string directory, bool skipVersionCheck = false) => ModelLoading.Load(directory, verifyVersion: !skipVersionCheck);

    /// <summary>
    /// <paramref name="model"/> combining its objectives with <paramref name="weights"/> (comma-separated) for this call; the
    /// model itself when no weights are given (the view shares the model: dispose only <paramref name="model"/>). Weights for a
    /// model without objectives are a user error.
    /// </summary>
    public static IRewardModel WithObjectiveWeights(IRewardModel model, string? weights)
    {
        if (weights is null) return model;
        if (model is not IObjectiveRewardModel heads)
            throw new UserErrorException($"--objective-weights: {model.Metadata.Name} has one reward head, not objectives; drop --objective-weights (or score a model trained with --objectives).");
        try { return heads.WithWeights(RewardObjectives.ParseWeights(weights)); }
        catch (ArgumentException e) { throw new UserErrorException($"--objective-weights: {e.Message}", e); }
    }

    /// <summary>Each objective's raw reward of one encoded sequence, by name.</summary>
    public static Dictionary<string, float> ObjectiveRewards(IObjectiveRewardModel model, int[] ids)
    {
        var rewards = new float[model.Objectives.Count];
        model.ScoreObjectives([ids], rewards);
        return model.Objectives.Names.Select((n, k) => (n, k)).ToDictionary(x => x.n, x => rewards[x.k]);
    }

    /// <summary>The <c>--skip-version-check</c> flag of every verb that loads a model.</summary>
    public static Option<bool> SkipVersionCheckOption() => new("--skip-version-check")
    {
        Description = "Load the model even when the sha256 of its model.safetensors is not the version in its rewardkit.json "
            + "(by default such a folder is refused: its weights changed after saving). Use only for weights you changed on purpose.",
    };

    public static Option<string[]> ResponsesOption() => new("--response")
    {
        Description = "A candidate response; repeat the option for each.", Required = true, Arity = ArgumentArity.OneOrMore,
    };

    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
