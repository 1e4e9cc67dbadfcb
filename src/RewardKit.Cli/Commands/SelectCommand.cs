using System.CommandLine;
using RewardKit.Annotation;
using RewardKit.Inference;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit select --model DIR --data unlabeled.jsonl --budget N --out FILE</c>: the N pairs most worth labelling
/// (active learning; see <see cref="PairSelection"/>).
/// </summary>
public static class SelectCommand
{
    /// <summary>Builds the <c>select</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var model = ScoringCli.ModelOption();
        var data = new Option<string>("--data") { Description = "Unlabelled pairs, JSONL: {prompt, response_a, response_b} per line ({prompt, chosen, rejected} too; the label is ignored).", Required = true };
        var budget = new Option<int>("--budget") { Description = "How many pairs to select.", Required = true };
        var output = new Option<string>("--out") { Description = "JSONL of the selected records, most uncertain first, with uncertainty and source_line added (written atomically).", Required = true };
        var by = new Option<string?>("--by")
        {
            Description = "disagreement: the standard deviation over the ensemble's members of their P(a ≻ b) = σ((r_a − r_b) / T) (the default for an ensemble); "
                + "bernoulli: p(1 − p) of the predicted preference p = σ((r_a − r_b) / T) (the default for one model).",
            HelpName = "disagreement|bernoulli",
        };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var command = new Command("select", "Select the unlabelled pairs most worth labelling: highest ensemble disagreement or p(1 − p).") { model, data, budget, output, by, skipVersion };
        command.SetAction((parse, ct) =>
        {
            int n = parse.GetValue(budget);
            if (n < 1) throw new UserErrorException($"--budget {n}: the number of pairs to select must be at least 1.");
            var input = parse.GetValue(data)!;
            var outPath = parse.GetValue(output)!;
            if (Path.GetFullPath(outPath) == Path.GetFullPath(input)) throw new UserErrorException($"--out {outPath} is the --data file; write the selection to another file.");
            using var loaded = ScoringCli.Load(parse.GetValue(model)!, parse.GetValue(skipVersion));
            var criterion = Criterion(parse.GetValue(by), loaded);
            var pairs = PairSelection.Read(input, ct);
            var progress = new Progress<int>(done => Console.Error.Write($"\rscoring pairs: {done:N0}/{pairs.Count:N0} "));
            var uncertainty = PairSelection.Uncertainty(loaded, pairs, criterion, loaded.Metadata.Temperature ?? 1, progress, ct);
            Console.Error.WriteLine();
            var selected = PairSelection.Top(uncertainty, n);
            PairSelection.Write(outPath, pairs, uncertainty, selected, criterion);
            var note = n > pairs.Count ? $" (the budget {n} exceeds the {pairs.Count} pairs: all are written)" : "";
            Console.WriteLine($"selected {selected.Length:N0} of {pairs.Count:N0} pairs by {criterion.ToString().ToLowerInvariant()} "
                + $"(uncertainty {uncertainty[selected[^1]]:G4} to {uncertainty[selected[0]]:G4}){note} -> {outPath}");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static SelectionCriterion Criterion(string? name, IRewardModel model) => name switch
    {
        null => model is IUncertainRewardModel ? SelectionCriterion.Disagreement : SelectionCriterion.Bernoulli,
        "disagreement" when model is not IUncertainRewardModel =>
            throw new UserErrorException($"--by disagreement: {model.Metadata.Name} is one model, not an ensemble; use --by bernoulli, or a model trained with --ensemble K."),
        "disagreement" => SelectionCriterion.Disagreement,
        "bernoulli" => SelectionCriterion.Bernoulli,
        _ => throw new UserErrorException($"--by {name}: not a criterion; use disagreement or bernoulli."),
    };
}
