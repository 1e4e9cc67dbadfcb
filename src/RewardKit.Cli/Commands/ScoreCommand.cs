using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using RewardKit.Distributed;
using RewardKit.Inference;
using RewardKit.Models.Hub;
using RewardKit.Models.MultiObjective;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit score</c>: Score (prompt, response) pairs with a reward model.</summary>
public static class ScoreCommand
{
    /// <summary>Builds the <c>score</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var model = ScoringCli.ModelOption();
        var prompt = new Option<string>("--prompt") { Description = "The prompt (one pair mode)." };
        var response = new Option<string>("--response") { Description = "The response to score (one pair mode)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON line {\"reward\", \"normalized\", \"calibrated\", \"ids\"}, plus \"objectives\" for a multi-objective model and \"std\" for an ensemble." };
        var data = new Option<string>("--data") { Description = "JSONL input: {prompt, response} or {prompt, chosen, rejected} per line (batch mode)." };
        var output = new Option<string>("--out") { Description = "JSONL output (batch mode); a killed run resumes where it stopped. Under mpirun -np N the ranks score disjoint chunks and rank 0 writes them in input order." };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per forward pass (default 16).", DefaultValueFactory = _ => 16 };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var weights = new Option<string?>("--objective-weights")
        {
            Description = "Multi-objective models: the weights of the combined reward for this call, comma-separated, one per objective (default: those in rewardkit.json).",
        };
        var conversation = new Option<string>("--conversation")
        {
            Description = "JSONL of multi-turn conversations ({\"messages\": [{role, content}]}, {\"conversation\": HH transcript} or {prompt, response}): "
                + "a reward per assistant turn, all read in one forward pass; oldest turns are dropped first when a conversation exceeds the context. "
                + "Writes JSON lines to --out, or to standard output.",
        };
        var noPromptCache = new Option<bool>("--no-prompt-cache")
        {
            Description = "Separate-encoder models: encode every response's prompt again instead of once per distinct prompt (the same rewards, slower; for measuring the cache).",
        };
        var conservative = ScoringCli.ConservativeOption();
        var command = new Command("score", "Score (prompt, response) pairs with a reward model.") { model, prompt, response, json, data, output, batch, skipVersion, weights, conversation, noPromptCache, conservative };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(conversation) is { } conversations)
                return ScoreConversations(parse.GetValue(model)!, parse.GetValue(skipVersion), conversations, parse.GetValue(output), parse.GetValue(batch), ct);
            if (parse.GetValue(data) is { } input)
            {
                var outPath = parse.GetValue(output) ?? throw new UserErrorException("--data needs --out FILE for the scored rows.");
                return await MpiJob.RunAsync(async communicator =>
                {
                    using var shardModel = ScoringCli.Load(parse.GetValue(model)!, parse.GetValue(skipVersion));
                    if (parse.GetValue(noPromptCache)) ScoringCli.DisablePromptCache(shardModel);
                    var weighted = ScoringCli.WithConservative(ScoringCli.WithObjectiveWeights(shardModel, parse.GetValue(weights)), parse.GetValue(conservative));   // views: disposing the model is enough
                    var shardScorer = new RewardScorer(weighted, new RewardScorerOptions { BatchSize = parse.GetValue(batch) });
                    return await ScoreFile(communicator, shardScorer, input, outPath, ct);
                });
            }
            if (DistributedLaunch.AnnouncedWorld().Size > 1)
                throw new UserErrorException("under mpirun, score runs in batch mode only (--data IN.jsonl --out OUT.jsonl); score one pair as one process.");
            using var opened = ScoringCli.Load(parse.GetValue(model)!, parse.GetValue(skipVersion));
            var loaded = ScoringCli.WithConservative(ScoringCli.WithObjectiveWeights(opened, parse.GetValue(weights)), parse.GetValue(conservative));   // views: disposing `opened` is enough
            var scorer = new RewardScorer(loaded, new RewardScorerOptions { BatchSize = parse.GetValue(batch) });
            var p = parse.GetValue(prompt) ?? throw new UserErrorException("pass --prompt and --response, or --data IN.jsonl --out OUT.jsonl.");
            var r = parse.GetValue(response) ?? throw new UserErrorException("pass --response with the text to score.");
            var (raw, std) = await scorer.ScoreRawWithStdAsync([new ScoringItem(p, r)], ct);   // std: ensembles only
            var score = scorer.ToScore(raw[0]);
            if (parse.GetValue(json))
            {
                var row = new Dictionary<string, object> { ["reward"] = score.Raw, ["normalized"] = score.Normalized, ["calibrated"] = score.Calibrated, ["ids"] = scorer.Encode(p, r) };
                if (loaded is IObjectiveRewardModel heads) row["objectives"] = ScoringCli.ObjectiveRewards(heads, scorer.Encode(p, r));
                if (std is not null) row["std"] = std[0];
                Console.WriteLine(JsonSerializer.Serialize(row));
            }
            else
                Console.WriteLine($"reward {score.Raw:0.######}  normalized {score.Normalized:0.####}  calibrated {score.Calibrated:0.####}"
                    + (std is null ? "" : $"  std {std[0]:0.####}"));
            return CliApp.Success;
        });
        return command;
    }

    static int ScoreConversations(string modelPath, bool skipVersion, string input, string? output, int batchSize, CancellationToken ct)
    {
        using var model = ScoringCli.Load(modelPath, skipVersion);
        ConversationScorer scorer;
        try { scorer = ConversationScorer.For(model); }
        catch (NotSupportedException e) { throw new UserErrorException($"--conversation: {e.Message}", e); }
        var progress = new Progress<int>(n => { if (output is not null) Console.Error.Write($"\r{n:N0} conversations scored "); });
        var result = output is null
            ? ConversationFile.Score(scorer, input, Console.Out, batchSize, progress, ct)
            : ConversationFile.Score(scorer, input, output, batchSize, progress, ct);
        if (output is not null) Console.Error.WriteLine();
        Console.Error.WriteLine($"scored {result.Turns:N0} turns of {result.Conversations:N0} conversations{(output is null ? "" : $" -> {output}")}; "
            + $"{result.Truncated:N0} conversations truncated to fit the context ({result.DroppedTurns:N0} oldest turns dropped).");
        return CliApp.Success;
    }

    static async Task<int> ScoreFile(ICommunicator communicator, RewardScorer scorer, string input, string output, CancellationToken ct)
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
        var result = await BatchScoring.RunAsync(communicator, scorer, input, output, progress: progress, cancellationToken: ct);
        if (!communicator.IsRoot()) return CliApp.Success;
        Console.Error.WriteLine();
        if (result.ResumedRows > 0)
            Console.Error.WriteLine($"resumed: {result.ResumedRows:N0} rows were already in {output}{(result.TruncatedBytes > 0 ? $" (dropped a partial last line of {result.TruncatedBytes} bytes)" : "")}.");
        var ranks = communicator.Size > 1 ? $" on {communicator.Size} ranks" : "";
        Console.WriteLine($"scored {result.ScoredRows:N0} rows{ranks} in {result.Elapsed.TotalSeconds:0.0} s ({result.RowsPerSecond:N0} rows/s) -> {output}");
        return CliApp.Success;
    }
}

/// <summary>What the scoring verbs share: the --model option and the model loader seam.</summary>
static class ScoringCli
{
    public static Option<string> ModelOption() => new("--model")
    {
        Description = "The model folder (made by `rewardkit train`), or a Hugging Face Hub id (org/name[@revision]) fetched into the Hub cache "
            + "(HF_HOME, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE as for huggingface_hub).",
        Required = true,
    };

    /// <summary>
    /// Opens a model folder or Hub id (<see cref="ResolveModel"/>) through <see cref="ModelLoading.Load(string, bool)"/>
    /// (the single loader the CLI uses).
    /// </summary>
    public static IRewardModel Load(string directoryOrId, bool skipVersionCheck = false) =>
        ModelLoading.Load(ResolveModel(directoryOrId), verifyVersion: !skipVersionCheck);

    /// <summary>A model folder as it is, or a Hub id's snapshot folder in the Hub cache (fetched unless cached or offline).</summary>
    public static string ResolveModel(string directoryOrId, CancellationToken cancellationToken = default)
    {
        if (Directory.Exists(directoryOrId) || !HubModelResolver.IsHubId(directoryOrId)) return directoryOrId;
        var settings = HubSettings.FromEnvironment();
        Console.Error.WriteLine($"hub: {directoryOrId} from {(settings.Offline ? "the cache (HF_HUB_OFFLINE)" : settings.Endpoint)} into {settings.CacheDirectory}");
        using var resolver = new HubModelResolver(settings);
        return resolver.Resolve(directoryOrId, cancellationToken);
    }

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

    /// <summary>Turns off a separate-encoder model's prompt cache (<c>--no-prompt-cache</c>); other models have none to turn off.</summary>
    public static void DisablePromptCache(IRewardModel model)
    {
        if (model is not SeparateEncoderScorer separate)
            throw new UserErrorException($"--no-prompt-cache: {model.Metadata.Name} is not a separate-encoder model (architecture: separate), so it has no prompt cache; drop the flag.");
        separate.CachePrompts = false;
    }

    /// <summary>The <c>--conservative K</c> option of the verbs that score with an ensemble.</summary>
    public static Option<double?> ConservativeOption() => new("--conservative")
    {
        Description = "Ensembles: score with the conservative reward mean − K·σ (σ the members' standard deviation) instead of the mean, e.g. 1.",
    };

    /// <summary>
    /// <paramref name="model"/> scoring mean − <paramref name="k"/>·σ when <paramref name="k"/> is given (a view sharing the
    /// ensemble: dispose only <paramref name="model"/>); the model itself otherwise. K for a model that is not an ensemble is a user error.
    /// </summary>
    public static IRewardModel WithConservative(IRewardModel model, double? k)
    {
        if (k is not { } weight) return model;
        if (model is not EnsembleRewardModel ensemble)
            throw new UserErrorException($"--conservative: {model.Metadata.Name} is one model, not an ensemble, so it has no σ; drop --conservative (or score a model trained with --ensemble K).");
        try { return ensemble.WithConservativeWeight(weight); }
        catch (ArgumentOutOfRangeException) { throw new UserErrorException($"--conservative {weight}: K of mean − K·σ must be a finite number ≥ 0, e.g. 1."); }
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
