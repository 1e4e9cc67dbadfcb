using System.Text.Json;
using System.Text.Json.Serialization;

namespace RewardKit.Evaluation;

/// <summary>Every number of one evaluation; serialised to report.json with snake_case keys.</summary>
public sealed class EvaluationReport
{
    /// <summary>Number of pairs.</summary>
    public int Pairs { get; init; }
    /// <summary>Preference accuracy (ties half) with a by-prompt bootstrap 95% CI.</summary>
    public required Estimate Accuracy { get; init; }
    /// <summary>ECE of the served probabilities (calibrated when a temperature is given).</summary>
    public double Ece { get; init; }
    /// <summary>ECE at T = 1.</summary>
    public double EceUncalibrated { get; init; }
    /// <summary>MCE of the served probabilities.</summary>
    public double Mce { get; init; }
    /// <summary>Noise floor of ECE for this many pairs and these confidences.</summary>
    public required EceNoiseFloor EceNoiseFloor { get; init; }
    /// <summary>Temperature used for served probabilities, or null.</summary>
    public double? Temperature { get; init; }
    /// <summary>Bradley-Terry log loss of served probabilities.</summary>
    public double LogLoss { get; init; }
    /// <summary>Brier score of served probabilities.</summary>
    public double Brier { get; init; }
    /// <summary>mean r_chosen − mean r_rejected.</summary>
    public double RewardGap { get; init; }
    /// <summary>Chosen reward statistics.</summary>
    public required RewardStatistics ChosenRewards { get; init; }
    /// <summary>Rejected reward statistics.</summary>
    public required RewardStatistics RejectedRewards { get; init; }
    /// <summary>Mann-Whitney U (chosen &gt; rejected).</summary>
    public required TestResult MannWhitney { get; init; }
    /// <summary>Reliability table.</summary>
    public required IReadOnlyList<ReliabilityBin> Reliability { get; init; }
    /// <summary>Length-bias audit.</summary>
    public required LengthBias LengthBias { get; init; }
    /// <summary>Accuracy of <see cref="ResponseOnlyBaseline"/> (bag-of-words on the response alone, fitted on the training pairs) on the same pairs, when <see cref="ModelEvaluationOptions.ResponseOnlyBaselineTrainingData"/> asked for it.</summary>
    public double? ResponseOnlyBaselineAccuracy { get; internal set; }
    /// <summary>
    /// The baselines' accuracies on the first file's pairs with the same by-prompt bootstrap 95% CI as <see cref="Accuracy"/>:
    /// <c>length_only</c> (prefer the longer response) always, <c>response_only</c> when it was fitted. Set by <see cref="ModelEvaluation.Run"/>.
    /// </summary>
    public IReadOnlyDictionary<string, Estimate>? Baselines { get; internal set; }
    /// <summary>
    /// Accuracy per objective on the first file's per-objective labels (see <see cref="ObjectiveEvaluation"/>): each head of a
    /// multi-objective model on its own objective, the one reward of any other model on each; null when no pair has labels.
    /// </summary>
    public IReadOnlyDictionary<string, ObjectiveEvaluation.ObjectiveAccuracy>? ObjectiveAccuracy { get; set; }
    /// <summary>
    /// For an ensemble: the AUROC of the members' disagreement for predicting the pairs of the first file the ensemble gets
    /// wrong (see <see cref="UncertaintyEvaluation"/>); null for one model.
    /// </summary>
    public double? UncertaintyAuroc { get; set; }
    /// <summary>For an ensemble: the AUROC of p(1 − p) of the mean reward for the same errors (the baseline the disagreement is compared with); null for one model.</summary>
    public double? UncertaintyAurocBernoulli { get; set; }
    /// <summary>Error against p_true, when present.</summary>
    public ProbabilityError? PTrueError { get; init; }
    /// <summary>Spearman between rewards and gold rewards, when present.</summary>
    public double? GoldSpearman { get; init; }
    /// <summary>Accuracy per source file.</summary>
    public required IReadOnlyDictionary<string, Estimate> Datasets { get; init; }
    /// <summary>Robustness gap: first dataset's accuracy minus each other dataset's.</summary>
    public required IReadOnlyDictionary<string, double> RobustnessGap { get; init; }
    /// <summary>Accuracy per category.</summary>
    public required IReadOnlyDictionary<string, Estimate> ByCategory { get; init; }
    /// <summary>Accuracy per agreement level.</summary>
    public required IReadOnlyDictionary<string, Estimate> ByAgreement { get; init; }
    /// <summary>Adversarial / invariance probe results, when run.</summary>
    public IReadOnlyList<ProbeResult>? Probes { get; set; }

    /// <summary>snake_case JSON options used for report.json.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The report as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);
}

/// <summary>Mean absolute error and RMSE against p_true.</summary>
public sealed record ProbabilityError(double MeanAbsoluteError, double Rmse);

/// <summary>Length bias: length-only baseline, Spearman(reward, length), accuracy split by whether chosen is longer.</summary>
public sealed record LengthBias(double LengthBaselineAccuracy, double SpearmanRewardLength, double? AccuracyChosenLonger, double? AccuracyChosenNotLonger);

/// <summary>Result of one probe: for adversarial probes the rate at which the perturbed rejected outscores chosen; for invariance probes the mean |Δ reward|.</summary>
public sealed record ProbeResult(string Name, string Kind, double Value);
