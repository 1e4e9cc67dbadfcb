// Shapes: B rows (responses), C channels (n_embd), H hidden (= C).
using RewardKit.Tensors;

namespace RewardKit.Models.Separate;

/// <summary>
/// The fusion head of a separate-encoder reward model, composed from engine ops (each with its own gradient check), as in
/// InferSent-style pair classifiers:
/// <code>
/// f = [p, r, p ⊙ r, |p − r|]                 (B, 4C)
/// h = gelu_tanh(f · W1ᵀ + b1)                 (B, H)    fusion.dense
/// reward = h · W2ᵀ + b2                        (B)       fusion.out
/// </code>
/// tools/separate_fusion_fixtures.py writes the same computation in PyTorch (values and gradients).
/// </summary>
public static class SeparateFusion
{
    /// <summary>The rewards of (prompt, response) encodings.</summary>
    /// <param name="tape">Records the step.</param>
    /// <param name="prompts">(B, C) each response's prompt encoding.</param>
    /// <param name="responses">(B, C) the response encodings.</param>
    /// <param name="denseWeight">(H, 4C) W1.</param>
    /// <param name="denseBias">(H) b1.</param>
    /// <param name="outWeight">(1, H) W2.</param>
    /// <param name="outBias">(1) b2.</param>
    /// <returns>(B) rewards.</returns>
    public static Tensor Forward(Tape tape, Tensor prompts, Tensor responses, Tensor denseWeight, Tensor denseBias, Tensor outWeight, Tensor outBias)
    {
        ArgumentNullException.ThrowIfNull(tape);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(responses);
        if (!Shapes.Equal(prompts.Shape, responses.Shape) || prompts.Rank != 2)
            throw new ArgumentException($"SeparateFusion: prompts {Shapes.Format(prompts.Shape)} and responses {Shapes.Format(responses.Shape)} must both be (B, C).");
        var difference = tape.Sub(prompts, responses);                                                  // (B, C)
        var features = tape.Concat([prompts, responses, tape.Mul(prompts, responses),
            tape.Maximum(difference, tape.Neg(difference))], axis: 1);                                  // (B, 4C)
        var hidden = tape.Gelu(tape.Linear(features, denseWeight, denseBias));                          // (B, H)
        return tape.Linear(hidden, outWeight, outBias).Reshape(prompts.Dim(0));                        // (B)
    }
}
