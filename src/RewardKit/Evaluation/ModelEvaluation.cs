using RewardKit.Data;
using RewardKit.Inference;

namespace RewardKit.Evaluation;

/// <summary>Options of <see cref="ModelEvaluation.Run"/>.</summary>
public sealed record ModelEvaluationOptions
{
    /// <summary>Metric options (bins, bootstrap, seed). The temperature is taken from the model unless set here.</summary>
    public EvaluationOptions Metrics { get; init; } = new();

    /// <summary>Pairs of the first file perturbed by the adversarial and invariance probes (0 = no probes). Default 200.</summary>
    public int ProbePairs { get; init; } = 200;

    /// <summary>Skip invalid records (they are counted in the read reports) instead of stopping. Default false.</summary>
    public bool SkipInvalid { get; init; }

    /// <summary>
    /// Training preference files for the response-only baseline (<see cref="ResponseOnlyBaseline"/>: a bag of words on the
    /// response, no prompt); when any are given, the baseline is fitted on their pairs and its accuracy on the first data
    /// file's pairs is <see cref="EvaluationReport.ResponseOnlyBaselineAccuracy"/>. Default none (not run).
    /// </summary>
    public IReadOnlyList<string> ResponseOnlyBaselineTrainingData { get; init; } = [];
}

/// <summary>What <see cref="ModelEvaluation.Run"/> produced.</summary>
/// <param name="Report">Every number.</param>
/// <param name="Pairs">The scored pairs, in file order.</param>
/// <param name="ReadReports">Per file: what was read and skipped.</param>
public sealed record ModelEvaluationResult(EvaluationReport Report, IReadOnlyList<ScoredPair> Pairs, IReadOnlyDictionary<string, ReadReport> ReadReports);

/// <summary>Scores preference files with a reward model and evaluates the scores: the library side of <c>rewardkit eval</c>.</summary>
public static class ModelEvaluation
{
    /// <summary>Reads every file's pairs (a file's name is its <c>source</c>), scores chosen and rejected, and computes the report.</summary>
    public static ModelEvaluationResult Run(RewardScorer scorer, IReadOnlyList<string> dataFiles, ModelEvaluationOptions? options = null,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new ModelEvaluationOptions();
        if (dataFiles.Count == 0) throw new ArgumentException("evaluation needs at least one data file (--data).");
        var scored = new List<ScoredPair>();
        var reads = new Dictionary<string, ReadReport>(StringComparer.Ordinal);
        List<TextPair>? probeTexts = null;
        List<(string Chosen, string Rejected)>? firstFile = null;
        foreach (var file in dataFiles)
        {
            var source = UniqueName(Path.GetFileNameWithoutExtension(file), reads);
            var (pairs, report) = PreferenceReader.ReadAllPairs(file, new ReaderOptions { SkipInvalid = options.SkipInvalid }, cancellationToken);
            reads[source] = report;
            if (pairs.Count == 0) throw new InvalidDataException($"{file}: no preference pairs to evaluate.");
            progress?.Report($"{source}: scoring {pairs.Count} pairs");
            var items = new List<ScoringItem>(pairs.Count * 2);
            foreach (var p in pairs) { items.Add(new ScoringItem(p.Prompt, p.Chosen)); items.Add(new ScoringItem(p.Prompt, p.Rejected)); }
            var rewards = scorer.Score(items, cancellationToken);
            for (int i = 0; i < pairs.Count; i++)
            {
                var p = pairs[i];
                scored.Add(new ScoredPair(source + "\u0001" + p.Prompt, p.Category, source, rewards[2 * i].Raw, rewards[2 * i + 1].Raw,
                    p.Chosen.Length, p.Rejected.Length, p.PTrue, p.GoldChosen, p.GoldRejected, AgreementOf(p)));
            }
            firstFile ??= [.. pairs.Select(p => (p.Chosen, p.Rejected))];
            probeTexts ??= pairs.Take(options.ProbePairs).Select(p => new TextPair(p.Prompt, p.Chosen, p.Rejected)).ToList();
        }
        var metrics = options.Metrics with { Temperature = options.Metrics.Temperature ?? scorer.Metadata.Temperature };
        var result = Evaluator.Evaluate(scored, metrics, cancellationToken);
        if (options.ProbePairs > 0 && probeTexts is { Count: > 0 })
        {
            progress?.Report($"probes: perturbing {probeTexts.Count} pairs");
            result.Probes = RobustnessAudit.RunProbes(probeTexts,
                batch => scorer.Score(batch.Select(x => new ScoringItem(x.prompt, x.response)).ToList(), cancellationToken).Select(s => (float)s.Raw).ToArray(),
                cancellationToken);
        }
        var firstScored = scored.Take(firstFile!.Count).ToList();
        var baselines = new Dictionary<string, Estimate>(StringComparer.Ordinal)
        {
            ["length_only"] = BaselineEstimate(firstScored, [.. firstScored.Select(p => (double)(p.ChosenLength - p.RejectedLength))], metrics, cancellationToken),
        };
        if (options.ResponseOnlyBaselineTrainingData.Count > 0)
        {
            var baseline = FitResponseOnlyBaseline(options, progress, cancellationToken);
            result.ResponseOnlyBaselineAccuracy = baseline.Accuracy(firstFile);
            baselines["response_only"] = BaselineEstimate(firstScored, [.. firstFile.Select(p => baseline.Score(p.Chosen) - baseline.Score(p.Rejected))], metrics, cancellationToken);
        }
        result.Baselines = baselines;
        return new ModelEvaluationResult(result, scored, reads);
    }

    /// <summary>Fits the response-only baseline on the option's training files.</summary>
    static ResponseOnlyBaseline FitResponseOnlyBaseline(ModelEvaluationOptions options, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var reader = new ReaderOptions { SkipInvalid = options.SkipInvalid };
        var training = options.ResponseOnlyBaselineTrainingData
            .SelectMany(f => PreferenceReader.ReadAllPairs(f, reader, cancellationToken).Pairs)
            .Select(p => (p.Chosen, p.Rejected)).ToList();
        progress?.Report($"response-only baseline: fitting on {training.Count} training pairs");
        return ResponseOnlyBaseline.Fit(training, cancellationToken: cancellationToken);
    }

    /// <summary>A baseline's accuracy from its <paramref name="margins"/> (one per pair of <paramref name="pairs"/>), with the model's by-prompt bootstrap.</summary>
    static Estimate BaselineEstimate(IReadOnlyList<ScoredPair> pairs, double[] margins, EvaluationOptions metrics, CancellationToken cancellationToken) =>
        Bootstrap.ByGroup([.. Enumerable.Range(0, pairs.Count)], i => pairs[i].GroupId,
            indices => PreferenceMetrics.Accuracy([.. indices.Select(i => margins[i])]), metrics.Resamples, metrics.Seed, cancellationToken);

    /// <summary>The training metrics log of a model folder: <c>metrics.jsonl</c> inside it or beside it (as <c>rewardkit train</c> writes), or null.</summary>
    public static string? FindMetricsLog(string modelDirectory)
    {
        foreach (var candidate in new[] { Path.Combine(modelDirectory, "metrics.jsonl"), Path.Combine(modelDirectory, "..", "metrics.jsonl") })
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        return null;
    }

    /// <summary>
    /// Writes <c>report.json</c> and <c>report.md</c> (and <c>report.html</c> with its charts) into <paramref name="outputDirectory"/>,
    /// each atomically; <paramref name="metricsLog"/> (may be null) feeds the training curves. Returns the paths written.
    /// </summary>
    public static IReadOnlyList<string> WriteReports(ModelEvaluationResult result, string? metricsLog, string outputDirectory)
    {
        var report = result.Report;
        Directory.CreateDirectory(outputDirectory);
        var json = Path.Combine(outputDirectory, "report.json");
        var md = Path.Combine(outputDirectory, "report.md");
        WriteAtomically(json, report.ToJson());
        WriteAtomically(md, MarkdownReport.Render(report));
        var html = Path.Combine(outputDirectory, "report.html");
        WriteAtomically(html, HtmlReport.Render(report, result.Pairs, metricsLog));
        return [json, md, html];
    }

    /// <summary>Writes text to a temporary file beside <paramref name="path"/> and renames it over the target.</summary>
    public static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    static string? AgreementOf(PreferencePair p) =>
        p.Extra.TryGetValue("agreement", out var a) ? a.ToString() : null;

    static string UniqueName(string name, Dictionary<string, ReadReport> taken)
    {
        var candidate = name;
        for (int i = 2; taken.ContainsKey(candidate); i++) candidate = $"{name}-{i}";
        return candidate;
    }
}
