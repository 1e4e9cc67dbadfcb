namespace RewardKit.Tensors.Optim;

/// <summary>Updates a <see cref="ParameterSet"/> from its gradients, one step at a time.</summary>
public interface IOptimizer
{
    /// <summary>The learning rate of the next step (a schedule sets it before each step).</summary>
    double LearningRate { get; set; }

    /// <summary>Steps taken so far.</summary>
    long StepCount { get; }

    /// <summary>Applies one update from the current gradients (it does not zero them).</summary>
    void Step();

    /// <summary>The state for a checkpoint: named float arrays ("step" holds the step count).</summary>
    IReadOnlyDictionary<string, float[]> SaveState();

    /// <summary>Restores a state from <see cref="SaveState"/>; throws naming the entry when it does not fit.</summary>
    void LoadState(IReadOnlyDictionary<string, float[]> state);
}
