using RewardKit.Data;
using RewardKit.Inference;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Evaluation;

/// <summary>The outcome of <see cref="Calibrator.Calibrate"/>.</summary>
/// <param name="Fit">The fitted temperature and the validation log loss before and after.</param>
/// <param name="EceBefore">ECE of σ(Δ) on the validation pairs.</param>
/// <param name="EceAfter">ECE of σ(Δ/T) on the validation pairs.</param>
/// <param name="Pairs">Validation pairs used.</param>
public sealed record CalibrationOutcome(TemperatureFit Fit, double EceBefore, double EceAfter, int Pairs);

/// <summary>Temperature scaling of a model folder: score validation pairs, fit T, store it in <c>rewardkit.json</c>.</summary>
public static class Calibrator
{
    /// <summary>Fits T on <paramref name="validationFile"/> with the model in <paramref name="modelDirectory"/> and stores it there
    /// (<paramref name="verifyVersion"/>: check the weights against rewardkit.json's version first, as every load does).</summary>
    public static CalibrationOutcome Calibrate(string modelDirectory, string validationFile, int bins = 10, CancellationToken cancellationToken = default, bool verifyVersion = true)
    {
        double[] margins;
        using (var model = ModelLoading.Load(modelDirectory, verifyVersion))
        {
            var scorer = new RewardScorer(model, new RewardScorerOptions { BatchSize = 32 });
            var (pairs, _) = PreferenceReader.ReadAllPairs(validationFile, null, cancellationToken);
            if (pairs.Count == 0) throw new InvalidDataException($"{validationFile}: no validation pairs.");
            var items = pairs.SelectMany(p => new[] { new ScoringItem(p.Prompt, p.Chosen), new ScoringItem(p.Prompt, p.Rejected) }).ToList();
            var rewards = scorer.Score(items, cancellationToken);
            margins = Enumerable.Range(0, pairs.Count).Select(i => rewards[2 * i].Raw - rewards[2 * i + 1].Raw).ToArray();
        }
        var fit = TemperatureScaling.Fit(margins);
        double Ece(double t) => Calibration.Evaluate(margins.Select(d => Activations.Sigmoid(d / t)).ToArray(), bins, BinningScheme.EqualMass).Ece;
        TemperatureScaling.Store(modelDirectory, fit.Temperature);
        return new CalibrationOutcome(fit, Ece(1), Ece(fit.Temperature), margins.Length);
    }
}
