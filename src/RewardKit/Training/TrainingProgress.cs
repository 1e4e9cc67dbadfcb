namespace RewardKit.Training;

/// <summary>What the trainer is doing.</summary>
public enum TrainingStage
{
    /// <summary>Reading, tokenizing and checking the data (<see cref="TrainingProgress.Message"/> says what).</summary>
    Preparing,
    /// <summary>A step of the SFT warm start finished (Step and TotalSteps count its steps; see <see cref="RewardTrainingOptions.SftSteps"/>).</summary>
    WarmStart,
    /// <summary>An optimiser step finished.</summary>
    Training,
    /// <summary>An evaluation finished.</summary>
    Evaluating,
    /// <summary>Writing a checkpoint or the model folder.</summary>
    Saving,
}

/// <summary>A progress report from <see cref="RewardTrainer"/>; the CLI turns these into log lines and a progress bar.</summary>
/// <param name="Stage">What is happening.</param>
/// <param name="Step">Optimiser steps completed.</param>
/// <param name="TotalSteps">Steps the run will take (0 while preparing).</param>
/// <param name="Loss">The last step's training loss (NaN before step 1).</param>
/// <param name="LearningRate">The last step's learning rate.</param>
/// <param name="Message">A line worth printing (start-up checks, evaluation results, saves), or null.</param>
public sealed record TrainingProgress(TrainingStage Stage, long Step, long TotalSteps, double Loss, double LearningRate, string? Message = null);

/// <summary>The training loss or gradient norm became NaN or infinite; the run stopped before applying the update.</summary>
public sealed class TrainingDivergedException(string message, long step, string? lastCheckpoint) : ArithmeticException(message)
{
    /// <summary>The step (1-based) whose loss or gradient was not finite.</summary>
    public long Step { get; } = step;

    /// <summary>The last checkpoint written before it, or null when none was.</summary>
    public string? LastCheckpoint { get; } = lastCheckpoint;
}

/// <summary>What a finished (or cancelled) run produced.</summary>
public sealed record TrainingResult
{
    /// <summary>The model folder (<c>OUT/model</c>), or null when the run was cancelled before it was written.</summary>
    public string? ModelDirectory { get; init; }
    /// <summary>The checkpoint folder (<c>OUT/checkpoint</c>), or null when the run writes none (backbone fine-tuning).</summary>
    public required string? CheckpointDirectory { get; init; }
    /// <summary>Optimiser steps completed.</summary>
    public long Steps { get; init; }
    /// <summary>True when cancellation stopped the run (after saving a checkpoint, also during the SFT warm start).</summary>
    public bool Cancelled { get; init; }
    /// <summary>True when early stopping ended the run.</summary>
    public bool StoppedEarly { get; init; }
    /// <summary>The start-up checks of the training data, then of the evaluation data.</summary>
    public IReadOnlyList<StartupChecks> Checks { get; init; } = [];
    /// <summary>The last training metrics row.</summary>
    public IReadOnlyDictionary<string, double> FinalTrainMetrics { get; init; } = new Dictionary<string, double>();
    /// <summary>The evaluation metrics of the kept (best) model, or empty without evaluation data.</summary>
    public IReadOnlyDictionary<string, double> BestEvalMetrics { get; init; } = new Dictionary<string, double>();
    /// <summary>The step of the kept model.</summary>
    public long BestStep { get; init; }
    /// <summary>The training losses of every step, in order (for tests and plots).</summary>
    public IReadOnlyList<double> Losses { get; init; } = [];
}
