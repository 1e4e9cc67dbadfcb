// Shapes: B sequences, T padded length, R the longest response, N = Σ response tokens, C channels.
using RewardKit.Models;
using RewardKit.Tensors;

namespace RewardKit.Rl;

/// <summary>
/// PPO's value function as a separate network (TRL's <c>value_model</c>): a GPT-2 with a scalar head, usually started
/// from the reward model's weights, read at every position that predicts a response token, the same positions the
/// policy's log-probs come from (TRL: <c>values[:, context_length − 1 : −1]</c>).
/// </summary>
public sealed class Critic
{
    /// <summary>A critic on <paramref name="model"/> (trained in place).</summary>
    public Critic(GptRewardModel model) => Model = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>The network: backbone plus its <c>score</c> head, used per token.</summary>
    public GptRewardModel Model { get; }

    /// <summary>The trainable parameters.</summary>
    public ParameterSet Parameters => Model.Parameters;

    /// <summary>
    /// V at each response token of <paramref name="batch"/>, laid out (B, R) as <see cref="GptLanguageModel.ResponseLogProbs"/>
    /// lays out log-probs (padding 0); differentiable on a recording tape.
    /// </summary>
    /// <param name="tape">Records the step (or, with RecordsGradients off, just computes).</param>
    /// <param name="batch">(B, T) prompt + response ids with ResponseStart.</param>
    public Tensor Values(Tape tape, TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(tape);
        var layout = ResponseLayout.Of(batch);
        var hidden = Model.Transformer.FinalHiddenRows(tape, batch, layout.PredictingRows, lastBlockOnRowsOnly: true,
            conv1D: Model.Conv1DKernel);                                                     // (N, C)
        var values = tape.Linear(hidden, Model.ScoreWeight, null);                            // (N, 1)
        return tape.ScatterRows(values, layout.Cells, batch.Batch * layout.Width).Reshape(batch.Batch, layout.Width);   // (B, R)
    }
}
